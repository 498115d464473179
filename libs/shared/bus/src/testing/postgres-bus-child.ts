/**
 * A process on the PostgresBus for the crash specs (postgres-bus.integration-spec.ts), which
 * kill it with SIGKILL at a moment it reports on stdout, one JSON line per step:
 * - `consume <url> <topic> <group>`: reports each batch it handled, then hangs before the
 *   bus commits, so the kill falls between handling and committing;
 * - `produce <url> <topic> <calls> <perCall>`: publishes numbered messages, reporting each call
 *   once publish returned (committed), until killed.
 */
import { defineTopic } from '@mmp/contracts';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { PostgresBus } from '../postgres-bus';

const [mode, url, topicName, ...rest] = process.argv.slice(2);
if (!url || !topicName) throw new Error('usage: consume|produce <url> <topic> ...');
Logger.overrideLogger(['error']);
const topic = defineTopic({
  name: topicName,
  schemaVersion: 1,
  schema: z.object({ seq: z.number().int() }),
  description: 'a topic of the crash specs',
});
const bus = new PostgresBus({ url });
const report = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

async function consume(groupId: string): Promise<void> {
  bus.subscribe({
    topic,
    groupId,
    handler: async (batch) => {
      report({ handled: batch.map((message) => message.value.seq) });
      // Never returns: the bus cannot commit, and the parent kills this process now.
      await new Promise<never>(() => undefined);
    },
  });
  await bus.start();
  report({ started: true });
}

async function produce(calls: number, perCall: number): Promise<void> {
  for (let call = 0; call < calls; call += 1) {
    await bus.publish(
      topic,
      Array.from({ length: perCall }, (_, i) => ({ key: `c-${i % 13}`, value: { seq: call * perCall + i } })),
    );
    report({ published: call });
  }
}

const work =
  mode === 'consume'
    ? consume(rest[0] ?? 'crash')
    : produce(Number(rest[0] ?? '1000000'), Number(rest[1] ?? '100'));
work.catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
