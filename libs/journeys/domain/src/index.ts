export * from './assignment';
export * from './step-machine';
