export * from './occurrence-id';
export * from './evaluate-event';
