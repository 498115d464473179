export * from './channel-plugin.generator';
