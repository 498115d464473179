// Provisioning, used once per run by test/global-setup.ts.
export { isContainerRuntimeAvailable } from './container-runtime';
export { KAFKA_INSTALL_HINT, provisionKafka, type ProvisionedKafka } from './kafka';
export { provisionPostgres, type PostgresProvisionOptions, type ProvisionedPostgres } from './postgres';
export { redactUrl, type Environment } from './report';
// Helpers for integration and end-to-end specs.
export { eventually } from './eventually';
export { createTestDatabase, type TestDatabase } from './test-database';
export { uniqueName } from './unique-name';
export { useTestDatabase, type TestDatabaseHandle } from './use-test-database';
export { orderPathEvents } from './order-path-events';
/** A kcat mock cluster of a spec's own, for behaviour only the mock has (no idempotence, 5 MB retention). */
export { startKafkaMock, type KafkaMock } from '@mmp/kafka-mock';
export {
  moveSandboxClock,
  readSandboxClock,
  waitForSandboxClock,
  type SandboxClockOptions,
} from './sandbox-clock';
