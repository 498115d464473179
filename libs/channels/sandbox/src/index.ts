export * from './sandbox-outbox';
export * from './sandbox.plugin';
