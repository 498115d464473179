import { defineDriver } from '../driver';
import { asSegmentCall, ingestionBatch } from './ingestion-events';

export interface IngestionHttpInput {
  runId: string;
  baseUrl: string;
  /**
   * `events`: `POST /v1/events` with a bearer API key; `segment`: the same events as Segment
   * calls to `POST /v1/segment/batch`, with `key` as the write key over HTTP Basic.
   */
  api: 'events' | 'segment';
  key: string;
  /** Batches posted before the clock starts (JIT, connection pools, plan caches). */
  warmupBatches: number;
  batches: number;
  batchSize: number;
  /** Requests in flight at once, like a retailer's importer with a few workers. */
  concurrency: number;
  customersPerBatch: number;
}

export interface IngestionHttpOutput {
  events: number;
  seconds: number;
  /** Per request, from send to answer. */
  requestMs: { p50: number; p99: number };
}

interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected: unknown[];
}

/**
 * The retailer's side of the HTTP ingestion benches: posts `{ batch }` bodies of new events (ours, or as Segment calls) from
 * `concurrency` workers and checks that every event was accepted. A batch mixes what a shop
 * sends: registrations with traits, orders, product views, per customer, each customer in one
 * batch only so the batches do not wait on each other's profile locks.
 */
export const driver = defineDriver(
  __filename,
  async (input: IngestionHttpInput, context): Promise<IngestionHttpOutput> => {
    const post = async (batchIndex: number): Promise<number> => {
      const started = performance.now();
      const request = requestOf(input, batchIndex);
      const response = await fetch(`${input.baseUrl}${request.path}`, {
        method: 'POST',
        headers: { authorization: request.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ batch: request.batch }),
      });
      const answer = (await response.json()) as IngestAnswer;
      if (
        response.status !== request.status ||
        answer.accepted !== input.batchSize ||
        answer.rejected.length > 0
      ) {
        throw new Error(
          `batch ${batchIndex}: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 500)}`,
        );
      }
      return performance.now() - started;
    };
    const runAll = async (from: number, count: number): Promise<number[]> => {
      const durations: number[] = [];
      let next = from;
      const worker = async (): Promise<void> => {
        while (next < from + count) {
          const index = next;
          next += 1;
          durations.push(await post(index));
        }
      };
      await Promise.all(Array.from({ length: input.concurrency }, () => worker()));
      return durations;
    };

    await runAll(0, input.warmupBatches);
    context.log(`ingestion over HTTP: warmed up with ${input.warmupBatches} batches`);
    const started = performance.now();
    const durations = await runAll(input.warmupBatches, input.batches);
    const seconds = (performance.now() - started) / 1000;
    durations.sort((a, b) => a - b);
    const percentile = (p: number): number =>
      durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0;
    return {
      events: input.batches * input.batchSize,
      seconds,
      requestMs: { p50: percentile(0.5), p99: percentile(0.99) },
    };
  },
);

function requestOf(
  input: IngestionHttpInput,
  batchIndex: number,
): { path: string; authorization: string; batch: object[]; status: number } {
  const events = ingestionBatch(input.runId, batchIndex, input.batchSize, input.customersPerBatch).map(
    (e) => e.event,
  );
  switch (input.api) {
    case 'events':
      return { path: '/v1/events', authorization: `Bearer ${input.key}`, batch: events, status: 202 };
    case 'segment':
      return {
        path: '/v1/segment/batch',
        authorization: `Basic ${Buffer.from(`${input.key}:`).toString('base64')}`,
        batch: events.map(asSegmentCall),
        status: 200,
      };
  }
}
