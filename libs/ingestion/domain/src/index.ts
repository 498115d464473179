export * from './money';
export * from './trigger-age';
export * from './traits';
export * from './canonical-event';
export * from './profile';
export * from './currency';
export * from './profile-history';
export * from './segment-call';
