export * from './delivery.module';
