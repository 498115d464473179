export * from './money';
export * from './trigger-age';
export * from './traits';
export * from './canonical-event';
export * from './profile';
