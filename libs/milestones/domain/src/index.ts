export * from './occurrence-id';
export * from './evaluate-event';
export * from './local-time';
export * from './timed-milestones';
export * from './missed-fire';
export * from './timed-schedule';
