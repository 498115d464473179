export * from './embedded-postgres';
export * from './outbox';
export * from './persistence.module';
export * from './pg-errors';
export * from './service-database';
export * from './sql';
export * from './transaction';
export * from './outbox-age';
