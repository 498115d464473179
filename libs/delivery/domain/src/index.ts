export * from './consent-decision';
export * from './locale-format';
export * from './render-template';
export * from './resolve-address';
export * from './retry-policy';
export * from './token-bucket';
export * from './track-links';
