// Unit specs: pure and fast, beside the code. Integration and end-to-end specs live in test/jest.config.js.
// TZ is pinned so that a spec never depends on the machine's zone by accident; the time-zone
// sensitive specs are run a second time under Pacific/Auckland by `npm run test:unit:tz`.
process.env.TZ = process.env.TZ || 'UTC';
const swc = require('./tools/jest/swc-transform');

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts'],
  transform: swc,
  moduleFileExtensions: ['ts', 'js', 'json'],
  clearMocks: true,
  // A budget, not an assertion: specs that boot Nest, spawn a Node process (telemetry) or push
  // 100k messages through the in-memory bus take under a second on an idle machine but 5-30 s
  // on the shared 2-core one under load, where jest's default 5 s failed one of them now and then.
  // A hung spec still fails, only later.
  testTimeout: 60_000,
};
