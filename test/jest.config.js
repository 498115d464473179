// Integration and end-to-end specs: real Postgres and a real Kafka-protocol cluster, provisioned
// once by the global setup (see tools/test-harness), run one file at a time.
process.env.TZ = process.env.TZ || 'UTC';
const path = require('node:path');
const swc = require('../tools/jest/swc-transform');

module.exports = {
  rootDir: path.join(__dirname, '..'),
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/test'],
  testMatch: ['**/*.integration-spec.ts', '**/*.e2e-spec.ts'],
  transform: swc,
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 60000,
};
