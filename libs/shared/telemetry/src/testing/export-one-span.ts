// Run in a child process by telemetry.spec.ts: jest's module sandbox cannot load the OTLP
// exporter's HTTP agent (a dynamic import), so real exporting is only observable outside it.
import { startTelemetry } from '../telemetry';
import { withSpan } from '../with-span';

async function main(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'export-one-span' });
  await withSpan('work', async () => undefined);
  await telemetry.shutdown();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
