export * from './render-template';
export * from './resolve-address';
export * from './consent-decision';
