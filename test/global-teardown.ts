/** Stops what global-setup started; dependencies from the environment are left running. */
export default async function globalTeardown(): Promise<void> {
  const infrastructure = globalThis.__mmpTestInfrastructure;
  globalThis.__mmpTestInfrastructure = undefined;
  if (!infrastructure) return;
  const results = await Promise.allSettled([infrastructure.postgres.stop(), infrastructure.kafka.stop()]);
  const failures = results
    .filter((result) => result.status === 'rejected')
    .map((result) => String(result.reason));
  if (failures.length > 0) throw new Error(`test teardown could not stop everything: ${failures.join('; ')}`);
}
