export * from './kafka-mock';
