export * from './assignment';
export * from './send-policy';
export * from './step-machine';
export * from './run-instances';
export * from './journey-map';
