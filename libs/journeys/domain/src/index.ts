export * from './assignment';
export * from './send-policy';
export * from './step-machine';
