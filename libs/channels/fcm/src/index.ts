export * from './fcm.plugin';
