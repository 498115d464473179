import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTopic, type Topic } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { recordSpansInMemory, SpanKind, withSpan, type InMemorySpans } from '@mmp/telemetry';
import { trace } from '@opentelemetry/api';
import { register } from 'prom-client';
import { z } from 'zod';
import type { IncomingMessage, MessageBus, RetryPolicy } from '../message-bus';

/**
 * The contract every MessageBus adapter keeps (see message-bus.ts), as one suite run against
 * each adapter: InMemoryBus in a unit spec, KafkaBus on a Kafka-protocol cluster in an
 * integration spec. An adapter passes only if it behaves the same as the others.
 */
export interface ConformanceHarness {
  /** A new bus on the shared broker; the suite subscribes, starts and stops it. */
  createBus(options: { retry?: Partial<RetryPolicy> }): MessageBus;
  /** Everything written to a topic so far, values parsed from JSON where they are JSON. */
  readTopic(topicName: string): Promise<{ key: string; value: unknown; headers: Record<string, string> }[]>;
  /** The longest an expectation may wait for asynchronous delivery. */
  timeoutMs: number;
  /** Called once after the suite. */
  close?(): Promise<void>;
}

const Sample = z.object({ seq: z.number().int(), note: z.string().optional() });
type Sample = z.infer<typeof Sample>;

/** Fast retries: the policy is the same, only the clock is shorter. */
const FAST_RETRY: Partial<RetryPolicy> = { attempts: 3, initialBackoffMs: 5, maxBackoffMs: 40 };

function uniqueTopic(label: string): Topic<Sample> {
  return defineTopic({
    name: `conformance.${label}.${randomUUID().slice(0, 8)}.v1`,
    schemaVersion: 1,
    schema: Sample,
    description: 'a topic of one conformance test',
  });
}

function uniqueGroup(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const seqs = (batch: readonly IncomingMessage<Sample>[]): number[] => batch.map((m) => m.value.seq);

export function describeBusConformance(adapterName: string, makeHarness: () => ConformanceHarness): void {
  describe(`${adapterName} keeps the MessageBus contract`, () => {
    let harness: ConformanceHarness;
    const running: MessageBus[] = [];

    beforeAll(() => {
      harness = makeHarness();
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((bus) => bus.stop()));
    });
    afterAll(async () => {
      await harness.close?.();
    });

    function newBus(retry: Partial<RetryPolicy> = FAST_RETRY): MessageBus {
      const bus = harness.createBus({ retry });
      running.push(bus);
      return bus;
    }

    it('keeps per-key order across 1000 messages on 50 keys, in single-partition batches, each message once', async () => {
      const topic = uniqueTopic('order');
      const bus = newBus();
      const received = new Map<string, number[]>();
      const partitionsByKey = new Map<string, Set<number>>();
      const batchProblems: string[] = [];
      let count = 0;
      bus.subscribe({
        topic,
        groupId: uniqueGroup('order'),
        maxBatchSize: 64,
        handler: async (batch) => {
          if (batch.length > 64) batchProblems.push(`batch of ${batch.length}`);
          if (new Set(batch.map((m) => m.partition)).size !== 1) batchProblems.push('batch spans partitions');
          const offsets = batch.map((m) => BigInt(m.offset));
          if (offsets.some((offset, i) => i > 0 && offset <= (offsets[i - 1] ?? -1n)))
            batchProblems.push('offsets out of order');
          for (const message of batch) {
            received.set(message.key, [...(received.get(message.key) ?? []), message.value.seq]);
            partitionsByKey.set(
              message.key,
              (partitionsByKey.get(message.key) ?? new Set()).add(message.partition),
            );
            count += 1;
          }
        },
      });
      await bus.start();

      for (let call = 0; call < 4; call += 1) {
        await bus.publish(
          topic,
          Array.from({ length: 250 }, (_, i) => {
            const seq = call * 250 + i;
            return { key: `customer-${seq % 50}`, value: { seq } };
          }),
        );
      }
      await waitFor(() => count >= 1000, harness.timeoutMs, '1000 messages');
      await sleep(100);

      expect(count).toBe(1000);
      expect(batchProblems).toEqual([]);
      expect(received.size).toBe(50);
      for (let k = 0; k < 50; k += 1) {
        expect(received.get(`customer-${k}`)).toEqual(Array.from({ length: 20 }, (_, i) => k + i * 50));
        expect(partitionsByKey.get(`customer-${k}`)?.size).toBe(1);
      }
    });

    it('delivers every message to each of two groups', async () => {
      const topic = uniqueTopic('groups');
      const bus = newBus();
      const byGroup: Record<'first' | 'second', number[]> = { first: [], second: [] };
      for (const group of ['first', 'second'] as const) {
        bus.subscribe({
          topic,
          groupId: uniqueGroup(group),
          handler: async (batch) => void byGroup[group].push(...seqs(batch)),
        });
      }
      await bus.start();

      await bus.publish(
        topic,
        Array.from({ length: 100 }, (_, seq) => ({ key: `k${seq % 7}`, value: { seq } })),
      );
      await waitFor(
        () => byGroup.first.length >= 100 && byGroup.second.length >= 100,
        harness.timeoutMs,
        'both groups',
      );

      const all = Array.from({ length: 100 }, (_, seq) => seq);
      expect([...byGroup.first].sort((a, b) => a - b)).toEqual(all);
      expect([...byGroup.second].sort((a, b) => a - b)).toEqual(all);
    });

    it('sends invalid records to the DLQ with the reason and the original bytes, and processes their neighbours', async () => {
      const topic = uniqueTopic('invalid');
      const groupId = uniqueGroup('invalid');
      const bus = newBus();
      const handled: number[] = [];
      bus.subscribe({ topic, groupId, handler: async (batch) => void handled.push(...seqs(batch)) });
      await bus.start();

      await bus.publishRaw(topic.name, [
        { key: 'c-1', value: JSON.stringify({ seq: 1 }) },
        { key: 'c-1', value: JSON.stringify({ seq: 'two' }), headers: { origin: 'import' } },
        { key: 'c-1', value: '{not json' },
        { key: 'c-1', value: JSON.stringify({ seq: 4 }) },
      ]);
      await waitFor(
        async () => handled.length >= 2 && (await harness.readTopic(topic.dlq)).length >= 2,
        harness.timeoutMs,
        'DLQ',
      );

      expect(handled).toEqual([1, 4]);
      const letters = await harness.readTopic(topic.dlq);
      expect(letters.map((l) => l.value)).toEqual([{ seq: 'two' }, '{not json']);
      const [schemaInvalid, notJson] = letters;
      expect(schemaInvalid?.key).toBe('c-1');
      expect(schemaInvalid?.headers).toMatchObject({
        origin: 'import',
        'dlq-source-topic': topic.name,
        'dlq-consumer-group': groupId,
      });
      expect(schemaInvalid?.headers['dlq-reason']).toMatch(/^seq: /);
      expect(notJson?.headers['dlq-reason']).toMatch(/^value is not JSON/);
      const sourceOffsets = letters.map((l) => Number(l.headers['dlq-source-offset']));
      expect(sourceOffsets[1]).toBe((sourceOffsets[0] ?? Number.NaN) + 1);
      expect(letters[0]?.headers['dlq-source-partition']).toMatch(/^\d+$/);
    });

    it('sends only a poison message to the DLQ and processes the rest in order', async () => {
      const topic = uniqueTopic('poison');
      const groupId = uniqueGroup('poison');
      const bus = newBus();
      const handled: number[] = [];
      let soloAttemptsOfPoison = 0;
      bus.subscribe({
        topic,
        groupId,
        handler: async (batch) => {
          if (batch.some((m) => m.value.seq === 4)) {
            if (batch.length === 1) soloAttemptsOfPoison += 1;
            throw new Error('cannot handle message 4');
          }
          handled.push(...seqs(batch));
        },
      });
      await bus.start();

      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, seq) => ({ key: 'c-7', value: { seq } })),
      );
      await waitFor(
        async () => handled.length >= 9 && (await harness.readTopic(topic.dlq)).length >= 1,
        harness.timeoutMs,
        'poison handling',
      );
      await sleep(100);

      expect(handled).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
      expect(soloAttemptsOfPoison).toBe(3);
      const letters = await harness.readTopic(topic.dlq);
      expect(letters.map((l) => l.value)).toEqual([{ seq: 4 }]);
      expect(letters[0]?.headers).toMatchObject({
        'dlq-reason': 'cannot handle message 4',
        'dlq-source-topic': topic.name,
        'dlq-consumer-group': groupId,
        'schema-version': '1',
      });
    });

    it('retries a retriable error beyond the attempt limit, never dead-letters it, and processes the message once it succeeds', async () => {
      const topic = uniqueTopic('retriable');
      const bus = newBus();
      let failures = 0;
      const handled: number[] = [];
      bus.subscribe({
        topic,
        groupId: uniqueGroup('retriable'),
        handler: async (batch) => {
          if (failures < 6) {
            failures += 1;
            throw AppError.unavailable('database is down');
          }
          handled.push(...seqs(batch));
        },
      });
      await bus.start();

      await bus.publish(topic, [{ key: 'c-1', value: { seq: 1 } }]);
      await waitFor(() => handled.length >= 1, harness.timeoutMs, 'the message after recovery');
      await sleep(100);

      expect(failures).toBe(6);
      expect(handled).toEqual([1]);
      expect(await harness.readTopic(topic.dlq)).toEqual([]);
    });

    it('rejects a whole publish call when one message is invalid, naming its index and field', async () => {
      const topic = uniqueTopic('validation');
      const bus = newBus();
      const handled: number[] = [];
      bus.subscribe({
        topic,
        groupId: uniqueGroup('validation'),
        handler: async (batch) => void handled.push(...seqs(batch)),
      });
      await bus.start();
      // The same topic, typed loosely, as a caller with unchecked input would hold it.
      const untyped: Topic<unknown> = topic;

      const failure = await bus
        .publish(untyped, [
          { key: 'c-1', value: { seq: 1 } },
          { key: 'c-1', value: { seq: 'x' } },
          { key: 'c-1', value: { seq: 3 } },
        ])
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      if (!(failure instanceof AppError)) throw new Error(`expected an AppError, got ${String(failure)}`);
      expect(failure).toMatchObject({ code: 'validation_failed', retriable: false });
      expect(failure.message).toContain('messages[1].seq');
      expect(failure.details?.map((d) => d.path)).toEqual(['messages[1].seq']);

      await bus.publish(topic, [{ key: 'c-1', value: { seq: 100 } }]);
      await waitFor(() => handled.length >= 1, harness.timeoutMs, 'the sentinel');
      expect(handled).toEqual([100]);
      expect(await harness.readTopic(topic.name)).toHaveLength(1);
    });

    describe('with tracing', () => {
      let spans: InMemorySpans;
      beforeEach(() => {
        spans = recordSpansInMemory();
      });
      afterEach(async () => {
        await spans.shutdown();
      });

      it('carries the traceparent from producer to consumer, and from a handler to what it publishes', async () => {
        const first = uniqueTopic('trace-first');
        const second = uniqueTopic('trace-second');
        const bus = newBus();
        const seenOnFirst: IncomingMessage<Sample>[] = [];
        const seenOnSecond: IncomingMessage<Sample>[] = [];
        let handlerTraceId: string | undefined;
        bus.subscribe({
          topic: first,
          groupId: uniqueGroup('trace'),
          handler: async (batch) => {
            seenOnFirst.push(...batch);
            handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
            await bus.publish(
              second,
              batch.map((m) => ({ key: m.key, value: { seq: m.value.seq + 1 } })),
            );
          },
        });
        bus.subscribe({
          topic: second,
          groupId: uniqueGroup('trace'),
          handler: async (batch) => void seenOnSecond.push(...batch),
        });
        await bus.start();

        const requestTraceId = await withSpan('http request', async (span) => {
          await bus.publish(first, [{ key: 'c-1', value: { seq: 1 } }]);
          return span.spanContext().traceId;
        });
        await waitFor(() => seenOnSecond.length >= 1, harness.timeoutMs, 'the follow-up message');

        const [incoming] = seenOnFirst;
        expect(incoming?.headers).toMatchObject({
          'schema-version': '1',
          'content-type': 'application/json',
        });
        const [, producedTrace, producedSpan] = incoming?.headers.traceparent?.split('-') ?? [];
        expect(producedTrace).toBe(requestTraceId);

        const finished = spans.finished();
        const consumerSpan = finished.find((s) => s.name === `${first.name} process`);
        expect(consumerSpan?.kind).toBe(SpanKind.CONSUMER);
        expect(consumerSpan?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
          [requestTraceId, producedSpan],
        ]);
        expect(handlerTraceId).toBe(consumerSpan?.spanContext().traceId);

        const [followUp] = seenOnSecond;
        const [, followUpTrace, followUpSpan] = followUp?.headers.traceparent?.split('-') ?? [];
        expect(followUpTrace).toBe(consumerSpan?.spanContext().traceId);
        const followUpPublish = finished.find((s) => s.spanContext().spanId === followUpSpan);
        expect(followUpPublish?.kind).toBe(SpanKind.PRODUCER);
        expect(followUpPublish?.parentSpanContext?.spanId).toBe(consumerSpan?.spanContext().spanId);
      });
    });

    it("reports a held-up group's lag per partition, on /metrics too, until it has handled everything", async () => {
      const topic = uniqueTopic('lag');
      const groupId = uniqueGroup('lag');
      const bus = newBus();
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let handled = 0;
      bus.subscribe({
        topic,
        groupId,
        handler: async (batch) => {
          await held;
          handled += batch.length;
        },
      });
      await bus.start();
      // One key: one partition holds all ten, and the handler holds the first batch.
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, seq) => ({ key: 'c-lag', value: { seq } })),
      );
      const lagOfGroup = async () =>
        (await bus.consumerLag()).filter((lag) => lag.topic === topic.name && lag.group === groupId);

      await waitFor(
        async () => (await lagOfGroup()).some((lag) => lag.lag === 10),
        harness.timeoutMs,
        'the lag',
      );
      const behind = (await lagOfGroup()).filter((lag) => lag.lag > 0);
      expect(behind.map(({ topic: name, group, lag }) => ({ name, group, lag }))).toEqual([
        { name: topic.name, group: groupId, lag: 10 },
      ]);
      expect(await register.getSingleMetricAsString('bus_consumer_lag_messages')).toContain(
        `bus_consumer_lag_messages{topic="${topic.name}",partition="${behind[0]?.partition}",group="${groupId}"} 10`,
      );

      release();
      await waitFor(() => handled >= 10, harness.timeoutMs, 'the handler');
      await waitFor(
        async () => (await lagOfGroup()).every((lag) => lag.lag === 0),
        harness.timeoutMs,
        'no lag once handled',
      );
      await bus.stop();
      expect(await register.getSingleMetricAsString('bus_consumer_lag_messages')).not.toContain(topic.name);
    });

    it('redelivers a message whose handling failed when the consumer restarts, and commits only after success', async () => {
      const topic = uniqueTopic('redelivery');
      const bus = newBus();
      let mode: 'failing' | 'working' = 'failing';
      let failedCalls = 0;
      const handled: number[] = [];
      bus.subscribe({
        topic,
        groupId: uniqueGroup('redelivery'),
        handler: async (batch) => {
          if (mode === 'failing') {
            failedCalls += 1;
            throw AppError.unavailable('downstream is down');
          }
          handled.push(...seqs(batch));
        },
      });
      await bus.start();
      await bus.publish(topic, [{ key: 'c-1', value: { seq: 1 } }]);
      await waitFor(() => failedCalls >= 2, harness.timeoutMs, 'failing deliveries');

      await bus.stop();
      expect(handled).toEqual([]);
      mode = 'working';
      await bus.start();
      await waitFor(() => handled.length >= 1, harness.timeoutMs, 'the redelivery');
      expect(handled).toEqual([1]);

      await bus.stop();
      await bus.start();
      await bus.publish(topic, [{ key: 'c-1', value: { seq: 2 } }]);
      await waitFor(() => handled.length >= 2, harness.timeoutMs, 'the next message');
      expect(handled).toEqual([1, 2]);
    });

    it('reads a topic whole before start, valid messages only, and leaves every group where it was', async () => {
      const topic = uniqueTopic('read-all');
      const bus = newBus();
      expect(await bus.readAll(topic)).toEqual([]);
      await bus.publish(topic, [
        { key: 'a', value: { seq: 1 } },
        { key: 'b', value: { seq: 2 } },
        { key: 'a', value: { seq: 3 } },
      ]);
      await bus.publishRaw(topic.name, [{ key: 'a', value: '{"seq":"not a number"}' }]);
      await bus.publish(topic, [{ key: 'a', value: { seq: 4, note: 'last' } }]);

      const read = await bus.readAll(topic);

      const byKey = (key: string) => read.filter((m) => m.key === key).map((m) => m.value);
      expect(byKey('a')).toEqual([{ seq: 1 }, { seq: 3 }, { seq: 4, note: 'last' }]);
      expect(byKey('b')).toEqual([{ seq: 2 }]);
      expect(read).toHaveLength(4);
      expect(new Set(read.map((m) => m.topic))).toEqual(new Set([topic.name]));
      const offsetsOfA = read.filter((m) => m.key === 'a').map((m) => Number(m.offset));
      expect(offsetsOfA).toEqual([...offsetsOfA].sort((x, y) => x - y));
      // A group that starts afterwards still gets everything: readAll committed nothing anywhere.
      const handled: number[] = [];
      bus.subscribe({
        topic,
        groupId: uniqueGroup('after-read'),
        handler: async (batch) => void handled.push(...seqs(batch)),
      });
      await bus.start();
      await waitFor(() => handled.length >= 4, harness.timeoutMs, 'the four valid messages');
      expect(handled.sort()).toEqual([1, 2, 3, 4]);
    });

    it('reports readiness only while started, stops idempotently and refuses to publish when stopped', async () => {
      const topic = uniqueTopic('lifecycle');
      const bus = newBus();
      bus.subscribe({ topic, groupId: uniqueGroup('lifecycle'), handler: async () => undefined });

      expect(await bus.isReady()).toBe(false);
      await bus.start();
      expect(await bus.isReady()).toBe(true);
      expect(() =>
        bus.subscribe({ topic, groupId: uniqueGroup('late'), handler: async () => undefined }),
      ).toThrow(/before start/);
      await Promise.all([bus.stop(), bus.stop()]);
      await bus.stop();

      expect(await bus.isReady()).toBe(false);
      await expect(bus.publish(topic, [{ key: 'c-1', value: { seq: 1 } }])).rejects.toMatchObject({
        code: 'unavailable',
        retriable: true,
      });
    });
  });
}
