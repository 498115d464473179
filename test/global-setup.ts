import {
  provisionKafka,
  provisionPostgres,
  type ProvisionedKafka,
  type ProvisionedPostgres,
} from '@mmp/test-harness';

/**
 * Provisions the real dependencies once for the whole integration run (see tools/test-harness
 * for the order of preference) and hands them to the specs through DATABASE_URL and
 * KAFKA_BROKERS. Each spec file then makes its own database (test/support useTestDatabase) and
 * its own topics, so files stay independent while sharing one server and one cluster.
 */
export interface TestInfrastructure {
  postgres: ProvisionedPostgres;
  kafka: ProvisionedKafka;
}

declare global {
  // Read by global-teardown.ts, which jest runs in the same process.
  var __mmpTestInfrastructure: TestInfrastructure | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const kafka = await provisionKafka();
  let postgres: ProvisionedPostgres;
  try {
    postgres = await provisionPostgres();
  } catch (error) {
    await kafka.stop();
    throw error;
  }
  process.env.DATABASE_URL = postgres.url;
  process.env.KAFKA_BROKERS = kafka.brokers.join(',');
  globalThis.__mmpTestInfrastructure = { postgres, kafka };
  console.log(`[test-harness] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
