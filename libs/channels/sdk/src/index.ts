export * from './channel-plugin';
