// `npm run kafka:mock`: a Kafka-protocol cluster for local runs, until Ctrl-C.
import { startKafkaMock } from './kafka-mock';

async function main(): Promise<void> {
  const mock = await startKafkaMock();
  process.stdout.write(`KAFKA_BROKERS=${mock.brokers.join(',')}\n`);
  process.stderr.write('kafka mock running; Ctrl-C stops it\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await mock.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
