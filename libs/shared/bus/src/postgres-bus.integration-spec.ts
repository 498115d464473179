import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defineTopic } from '@mmp/contracts';
import { eventually, useTestDatabase } from '@mmp/test-harness';
import { Logger } from '@nestjs/common';
import type { Client } from 'pg';
import { z } from 'zod';
import { PostgresBus, type PostgresBusOptions } from './postgres-bus';
import { describeBusConformance } from './testing/bus-conformance';

/** Real: the integration run's Postgres, a database of this file's own. Nothing is mocked. */
const database = useTestDatabase();
let client: Client;

beforeAll(async () => {
  Logger.overrideLogger(['error']);
  client = await database.connect();
});

/** What the bus holds of a topic, in publication order, values parsed from JSON where they are JSON. */
async function readTopic(
  topicName: string,
): Promise<
  { partition: number; offset: number; key: string; value: unknown; headers: Record<string, string> }[]
> {
  const exists = await client.query<{ ready: boolean }>(
    `SELECT to_regclass('bus.records') IS NOT NULL AS ready`,
  );
  if (!exists.rows[0]?.ready) return [];
  const { rows } = await client.query<{
    partition: number;
    offset: string;
    key: string;
    value: string;
    headers: Record<string, string>;
  }>(
    `SELECT partition, "offset"::text AS "offset", key, value, headers FROM bus.records
     WHERE topic = $1 ORDER BY produced_at, partition, "offset"`,
    [topicName],
  );
  return rows.map((row) => ({ ...row, offset: Number(row.offset), value: parseJsonOrKeep(row.value) }));
}

function parseJsonOrKeep(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const buses: PostgresBus[] = [];
function newBus(options: Partial<PostgresBusOptions> = {}): PostgresBus {
  const bus = new PostgresBus({ url: database.url, ...options });
  buses.push(bus);
  return bus;
}
afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.stop()));
});

describeBusConformance('PostgresBus', () => ({
  createBus: ({ retry }) => newBus(retry ? { retry } : {}),
  readTopic,
  timeoutMs: 15_000,
}));

const Numbered = z.object({ seq: z.number().int() });
function uniqueTopic(label: string) {
  return defineTopic({
    name: `pg-bus.${label}.${randomUUID().slice(0, 8)}.v1`,
    schemaVersion: 1,
    schema: Numbered,
    description: 'test',
  });
}

describe('PostgresBus', () => {
  it('wakes a consumer in another bus (process) by notification, without waiting for the fallback poll', async () => {
    const topic = uniqueTopic('notify');
    const handled: number[] = [];
    // A poll far slower than the deadline below: only a notification can deliver in time.
    const consumer = newBus({ pollIntervalMs: 600_000 });
    consumer.subscribe({
      topic,
      groupId: 'notify',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.seq)),
    });
    await consumer.start();
    const producer = newBus();

    await producer.publish(topic, [{ key: 'c-1', value: { seq: 1 } }]);
    await eventually(() => expect(handled).toEqual([1]), { timeoutMs: 5000 });
    await producer.publish(topic, [{ key: 'c-2', value: { seq: 2 } }]);
    await eventually(() => expect(handled).toEqual([1, 2]), { timeoutMs: 5000 });
  });

  it('reads records another process appended between its own, in offset order, each once', async () => {
    const topic = uniqueTopic('interleaved');
    const handled: number[] = [];
    const consumer = newBus({ partitions: 1 });
    consumer.subscribe({
      topic,
      groupId: 'interleaved',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.seq)),
    });
    await consumer.start();
    const other = newBus({ partitions: 1 });
    // Its own records it may read from memory; the other bus's only from the table.
    for (let seq = 0; seq < 40; seq += 1) {
      await (seq % 3 === 0 ? other : consumer).publish(topic, [{ key: 'c-1', value: { seq } }]);
    }

    await eventually(() => expect(handled).toEqual(Array.from({ length: 40 }, (_, seq) => seq)), {
      timeoutMs: 15_000,
    });
  });

  it('keeps records and offsets across a restart on a new bus: a group resumes after its last commit', async () => {
    const topic = uniqueTopic('resume');
    const first: number[] = [];
    const bus = newBus();
    bus.subscribe({
      topic,
      groupId: 'resume',
      handler: async (batch) => void first.push(...batch.map((m) => m.value.seq)),
    });
    await bus.start();
    await bus.publish(topic, [{ key: 'c-1', value: { seq: 1 } }]);
    await eventually(() => expect(first).toEqual([1]));
    await bus.stop();
    // Published while no consumer of the group runs.
    const producer = newBus();
    await producer.publish(topic, [{ key: 'c-1', value: { seq: 2 } }]);

    const second: number[] = [];
    const next = newBus();
    next.subscribe({
      topic,
      groupId: 'resume',
      handler: async (batch) => void second.push(...batch.map((m) => m.value.seq)),
    });
    await next.start();
    await eventually(() => expect(second).toEqual([2]));
  });

  it('applies retention by size and by age, oldest records first, and a group behind them resumes at the oldest kept', async () => {
    const topic = uniqueTopic('retention');
    const bus = newBus({ partitions: 1, retention: { maxRecordsPerPartition: 3 } });
    await bus.publish(
      topic,
      Array.from({ length: 5 }, (_, seq) => ({ key: 'c-1', value: { seq } })),
    );

    await bus.applyRetention();
    expect((await readTopic(topic.name)).map((r) => r.value)).toEqual([{ seq: 2 }, { seq: 3 }, { seq: 4 }]);

    const handled: number[] = [];
    bus.subscribe({
      topic,
      groupId: 'late',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.seq)),
    });
    await bus.start();
    await eventually(() => expect(handled).toEqual([2, 3, 4]));

    await client.query(
      `UPDATE bus.records SET produced_at = now() - interval '2 hours' WHERE topic = $1 AND "offset" < 4`,
      [topic.name],
    );
    const aged = newBus({ retention: { maxAgeMs: 60 * 60 * 1000 } });
    await aged.applyRetention();
    expect((await readTopic(topic.name)).map((r) => r.value)).toEqual([{ seq: 4 }]);
  });

  describe('killed with SIGKILL (child processes)', () => {
    const children: ChildProcess[] = [];
    afterEach(() => {
      for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    });

    function startChild(args: string[]): {
      lines: AsyncIterator<Record<string, unknown>>;
      kill: () => Promise<void>;
    } {
      const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
      const child = spawn(
        process.execPath,
        ['-r', '@swc-node/register', join(__dirname, 'testing', 'postgres-bus-child.ts'), ...args],
        { env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const reader = createInterface({ input: child.stdout ?? process.stdin });
      async function* parsed(): AsyncGenerator<Record<string, unknown>> {
        for await (const line of reader) {
          const value: unknown = JSON.parse(line);
          if (typeof value === 'object' && value !== null) yield Object.fromEntries(Object.entries(value));
        }
        throw new Error(`the child exited with ${child.exitCode} before reporting`);
      }
      return {
        lines: parsed(),
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      };
    }

    async function nextLine(lines: AsyncIterator<Record<string, unknown>>): Promise<Record<string, unknown>> {
      const next = await lines.next();
      if (next.done) throw new Error('the child ended');
      return next.value;
    }

    it('redelivers to the next consumer of the group what a consumer killed between handling and committing had handled', async () => {
      const topic = uniqueTopic('consumer-crash');
      const groupId = 'crash-consumer';
      const producer = newBus({ partitions: 1 });
      await producer.publish(
        topic,
        Array.from({ length: 20 }, (_, seq) => ({ key: 'c-1', value: { seq } })),
      );

      const child = startChild(['consume', database.url, topic.name, groupId]);
      let line = await nextLine(child.lines);
      while (!('handled' in line)) line = await nextLine(child.lines);
      expect(line.handled).toEqual(Array.from({ length: 20 }, (_, seq) => seq));
      await child.kill();

      const handled: number[] = [];
      const next = newBus({ partitions: 1 });
      next.subscribe({
        topic,
        groupId,
        handler: async (batch) => void handled.push(...batch.map((m) => m.value.seq)),
      });
      await next.start();
      await eventually(() => expect(handled).toEqual(Array.from({ length: 20 }, (_, seq) => seq)), {
        timeoutMs: 15_000,
      });
    }, 90_000);

    it('loses nothing a producer killed mid-stream had published, and no publish call is half there', async () => {
      const topic = uniqueTopic('producer-crash');
      const perCall = 100;
      const child = startChild(['produce', database.url, topic.name, '100000', String(perCall)]);
      let published = -1;
      // Killed while publishing, after a few calls have returned.
      while (published < 5) {
        const line = await nextLine(child.lines);
        if (typeof line.published === 'number') published = line.published;
      }
      await child.kill();

      const stored = (await readTopic(topic.name)).map((record) => Numbered.parse(record.value).seq);
      const calls = Math.ceil(stored.length / perCall);
      // Every call reported as published is there, in full; a call cut short is wholly absent.
      expect(calls).toBeGreaterThan(published);
      expect([...stored].sort((a, b) => a - b)).toEqual(
        Array.from({ length: calls * perCall }, (_, seq) => seq),
      );

      const handled = new Set<number>();
      const consumer = newBus();
      consumer.subscribe({
        topic,
        groupId: 'after-crash',
        handler: async (batch) => void batch.forEach((m) => handled.add(m.value.seq)),
      });
      await consumer.start();
      await eventually(() => expect(handled.size).toBe(calls * perCall), { timeoutMs: 15_000 });
    }, 90_000);
  });
});
