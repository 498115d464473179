export * from './lift';
