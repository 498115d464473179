export * from './consent.module';
export * from './store/consent.store';
