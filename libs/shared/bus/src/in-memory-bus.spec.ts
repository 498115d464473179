import { defineTopic } from '@mmp/contracts';
import { Logger } from '@nestjs/common';
import { register } from 'prom-client';
import { z } from 'zod';
import { DEFAULT_RETAIN_CONSUMED, InMemoryBus, partitionOf } from './in-memory-bus';
import { describeBusConformance } from './testing/bus-conformance';

beforeAll(() => Logger.overrideLogger(['error']));

describeBusConformance('InMemoryBus', () => {
  const buses: InMemoryBus[] = [];
  return {
    createBus: (options) => {
      const bus = new InMemoryBus(options);
      buses.push(bus);
      return bus;
    },
    // Topic names are unique per test, so at most one bus holds a given topic.
    readTopic: async (topicName) => buses.flatMap((bus) => bus.messagesOn(topicName)),
    // Generous, as for Kafka: a deadline for what must arrive, met in milliseconds when idle.
    timeoutMs: 30_000,
  };
});

const Counted = z.object({ n: z.number() });
const CountedTopic = defineTopic({
  name: 'test.counted.v1',
  schemaVersion: 1,
  schema: Counted,
  description: 'test',
});
const EchoTopic = defineTopic({
  name: 'test.echo.v1',
  schemaVersion: 2,
  schema: Counted,
  description: 'test',
});

describe('InMemoryBus', () => {
  let bus: InMemoryBus;
  afterEach(async () => {
    await bus.stop();
  });

  it('returns from publish before any handler runs', async () => {
    bus = new InMemoryBus();
    const handled: number[] = [];
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.n)),
    });
    await bus.start();

    await bus.publish(CountedTopic, [{ key: 'a', value: { n: 1 } }]);
    expect(handled).toEqual([]);

    await bus.whenIdle();
    expect(handled).toEqual([1]);
  });

  it('becomes idle only after follow-up messages published by handlers are handled too', async () => {
    bus = new InMemoryBus();
    const echoed: number[] = [];
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      handler: async (batch) =>
        bus.publish(
          EchoTopic,
          batch.map((m) => ({ key: m.key, value: { n: m.value.n * 10 } })),
        ),
    });
    bus.subscribe({
      topic: EchoTopic,
      groupId: 'g',
      handler: async (batch) => void echoed.push(...batch.map((m) => m.value.n)),
    });
    await bus.start();

    await bus.publish(CountedTopic, [
      { key: 'a', value: { n: 1 } },
      { key: 'a', value: { n: 2 } },
    ]);
    await bus.whenIdle();

    expect(echoed).toEqual([10, 20]);
  });

  it('waits for start before it can become idle, and is idle at once with nothing to do', async () => {
    bus = new InMemoryBus();
    let handled = 0;
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      handler: async (batch) => void (handled += batch.length),
    });
    await bus.whenIdle();

    await bus.publish(CountedTopic, [{ key: 'a', value: { n: 1 } }]);
    let idle = false;
    const idleness = bus.whenIdle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);

    await bus.start();
    await idleness;
    expect(handled).toBe(1);
  });

  it('lists everything published to a topic in publication order, with headers and parsed values', async () => {
    bus = new InMemoryBus();
    await bus.publish(CountedTopic, [
      { key: 'b', value: { n: 1 }, headers: { origin: 'test' } },
      { key: 'a', value: { n: 2 } },
    ]);
    await bus.publishRaw(CountedTopic.name, [{ key: 'a', value: 'not json' }]);

    const messages = bus.messagesOn(CountedTopic.name);

    expect(messages.map((m) => [m.key, m.value])).toEqual([
      ['b', { n: 1 }],
      ['a', { n: 2 }],
      ['a', 'not json'],
    ]);
    expect(messages[0]?.headers).toEqual({
      origin: 'test',
      'schema-version': '1',
      'content-type': 'application/json',
    });
    expect(messages[1]?.partition).toBe(partitionOf('a', 4));
    expect(messages[2]?.offset).toBe(String(Number(messages[1]?.offset) + 1));
    expect(bus.messagesOn('nothing.here.v1')).toEqual([]);
  });

  it('maps a key to the same partition every time, and keys over all partitions', () => {
    expect(partitionOf('customer-1', 4)).toBe(partitionOf('customer-1', 4));
    const used = new Set(Array.from({ length: 100 }, (_, i) => partitionOf(`customer-${i}`, 4)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
  });

  it('refuses a second handler for the same topic and group', () => {
    bus = new InMemoryBus();
    bus.subscribe({ topic: CountedTopic, groupId: 'g', handler: async () => undefined });

    expect(() =>
      bus.subscribe({ topic: CountedTopic, groupId: 'g', handler: async () => undefined }),
    ).toThrow('test.counted.v1 [g] is already subscribed');
  });

  it('waits for a handler in progress when stopping, and then delivers nothing more', async () => {
    bus = new InMemoryBus();
    let release: () => void = () => undefined;
    const calls: number[] = [];
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      maxBatchSize: 1,
      handler: async (batch) => {
        calls.push(...batch.map((m) => m.value.n));
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await bus.start();
    await bus.publish(CountedTopic, [
      { key: 'a', value: { n: 1 } },
      { key: 'a', value: { n: 2 } },
    ]);
    await new Promise((resolve) => setImmediate(resolve));

    let stopped = false;
    const stopping = bus.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;

    expect(calls).toEqual([1]);
  });

  it('counts published, consumed and dead-lettered messages on the default registry, shared by two buses', async () => {
    bus = new InMemoryBus({ retry: { attempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 } });
    const other = new InMemoryBus();
    const topic = defineTopic({
      name: 'test.metered.v1',
      schemaVersion: 1,
      schema: Counted,
      description: 'test',
    });
    bus.subscribe({
      topic,
      groupId: 'meter',
      handler: async (batch) => {
        if (batch.some((m) => m.value.n < 0)) throw new Error('negative');
      },
    });
    await bus.start();

    await bus.publish(topic, [
      { key: 'a', value: { n: 1 } },
      { key: 'a', value: { n: -1 } },
    ]);
    await other.publish(topic, [{ key: 'b', value: { n: 2 } }]);
    await bus.whenIdle();

    const value = async (
      name: string,
      labels: Record<string, string>,
      sample = name,
    ): Promise<number | undefined> => {
      const metric = await register.getSingleMetric(name)?.get();
      return metric?.values.find(
        (v) =>
          ('metricName' in v ? v.metricName : name) === sample &&
          Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value;
    };
    expect(await value('bus_messages_published_total', { topic: 'test.metered.v1' })).toBe(3);
    expect(await value('bus_messages_consumed_total', { topic: 'test.metered.v1', group: 'meter' })).toBe(1);
    expect(await value('bus_messages_dlq_total', { topic: 'test.metered.v1', group: 'meter' })).toBe(1);
    const handlerCalls = await value(
      'bus_batch_duration_seconds',
      { topic: 'test.metered.v1', group: 'meter' },
      'bus_batch_duration_seconds_count',
    );
    // The failing batch, then each of its messages alone.
    expect(handlerCalls).toBe(3);
  });
});

describe('InMemoryBus retention', () => {
  let bus: InMemoryBus;
  afterEach(async () => {
    await bus.stop();
  });

  const counted = (from: number, count: number, keys = 7) =>
    Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % keys}`, value: { n: from + i } }));

  it('keeps only the most recent consumed records of a topic after 100k went through a subscriber', async () => {
    bus = new InMemoryBus();
    let handled = 0;
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      handler: async (batch) => void (handled += batch.length),
    });
    await bus.start();

    for (let from = 0; from < 100_000; from += 1000) await bus.publish(CountedTopic, counted(from, 1000));
    await bus.whenIdle();

    expect(handled).toBe(100_000);
    const retained = bus.messagesOn(CountedTopic.name);
    expect(retained).toHaveLength(DEFAULT_RETAIN_CONSUMED);
    // The retained tail, in publication order.
    expect(retained.map((m) => (m.value as { n: number }).n)).toEqual(
      Array.from({ length: DEFAULT_RETAIN_CONSUMED }, (_, i) => 100_000 - DEFAULT_RETAIN_CONSUMED + i),
    );
  });

  it('bounds a topic nobody consumes (a DLQ in npm start) too', async () => {
    bus = new InMemoryBus({ retainConsumed: 50 });
    for (let from = 0; from < 1000; from += 10) await bus.publish(CountedTopic, counted(from, 10));

    expect(bus.messagesOn(CountedTopic.name).map((m) => (m.value as { n: number }).n)).toEqual(
      Array.from({ length: 50 }, (_, i) => 950 + i),
    );
  });

  it('keeps what a slow group has not consumed yet, and delivers all of it once, in order', async () => {
    bus = new InMemoryBus({ retainConsumed: 10 });
    let fast = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = new Map<string, number[]>();
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'fast',
      handler: async (batch) => void (fast += batch.length),
    });
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'slow',
      maxBatchSize: 100,
      handler: async (batch) => {
        await released;
        for (const m of batch) slow.set(m.key, [...(slow.get(m.key) ?? []), m.value.n]);
      },
    });
    await bus.start();

    await bus.publish(CountedTopic, counted(0, 5000));
    await waitFor(() => fast === 5000);
    // The fast group is done, the slow one has consumed nothing: everything is still there.
    expect(bus.messagesOn(CountedTopic.name)).toHaveLength(5000);

    release();
    await bus.whenIdle();
    const all = Array.from({ length: 5000 }, (_, n) => n);
    for (let k = 0; k < 7; k += 1) expect(slow.get(`k${k}`)).toEqual(all.filter((n) => n % 7 === k));
    expect(bus.messagesOn(CountedTopic.name)).toHaveLength(10);
  });

  it('keeps a backlog published while the bus was stopped, and delivers it after a restart', async () => {
    bus = new InMemoryBus({ retainConsumed: 0 });
    const handled: number[] = [];
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'g',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.n)),
    });
    await bus.publish(CountedTopic, counted(0, 300, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.messagesOn(CountedTopic.name)).toHaveLength(300);

    await bus.start();
    await bus.whenIdle();
    expect(handled).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(bus.messagesOn(CountedTopic.name)).toEqual([]);
  });

  it('never changes an offset: records get the same offsets as without trimming, and trimming continues from them', async () => {
    const offsetsWith = async (retainConsumed: number) => {
      const seen: string[] = [];
      const local = new InMemoryBus({ retainConsumed });
      local.subscribe({
        topic: CountedTopic,
        groupId: 'g',
        maxBatchSize: 3,
        handler: async (batch) =>
          void seen.push(...batch.map((m) => `${m.partition}:${m.offset}:${m.value.n}`)),
      });
      await local.start();
      for (let from = 0; from < 500; from += 25) {
        await local.publish(CountedTopic, counted(from, 25));
        await local.whenIdle();
      }
      const retained = local.messagesOn(CountedTopic.name).map(({ timestamp: _, ...m }) => m);
      await local.stop();
      return { seen, retained };
    };
    bus = new InMemoryBus();
    const trimmed = await offsetsWith(5);
    const full = await offsetsWith(Infinity);

    expect(trimmed.seen).toEqual(full.seen);
    expect(trimmed.retained).toEqual(full.retained.slice(-5));
    expect(full.retained).toHaveLength(500);
  });

  it('lets a group subscribed after records were dropped start from the oldest one retained', async () => {
    bus = new InMemoryBus({ retainConsumed: 20 });
    await bus.publish(CountedTopic, counted(0, 100, 1));
    const handled: number[] = [];
    bus.subscribe({
      topic: CountedTopic,
      groupId: 'late',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.n)),
    });
    await bus.start();
    await bus.publish(CountedTopic, counted(100, 5, 1));
    await bus.whenIdle();

    expect(handled).toEqual(Array.from({ length: 25 }, (_, i) => 80 + i));
    expect(bus.messagesOn(CountedTopic.name).map((m) => m.offset)).toEqual(
      Array.from({ length: 20 }, (_, i) => String(85 + i)),
    );
  });

  it('refuses a negative or fractional retention', () => {
    bus = new InMemoryBus();
    expect(() => new InMemoryBus({ retainConsumed: -1 })).toThrow('retainConsumed');
    expect(() => new InMemoryBus({ retainConsumed: 1.5 })).toThrow('retainConsumed');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
