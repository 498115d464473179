import { defineDriver } from '../driver';
import { ingestionBatch } from './ingestion-events';

export interface IngestionHttpInput {
  runId: string;
  baseUrl: string;
  apiKey: string;
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
 * The retailer's side of the HTTP ingestion bench: posts `{ batch }` bodies of new events from
 * `concurrency` workers and checks that every event was accepted. A batch mixes what a shop
 * sends: registrations with traits, orders, product views, per customer, each customer in one
 * batch only so the batches do not wait on each other's profile locks.
 */
export const driver = defineDriver(
  __filename,
  async (input: IngestionHttpInput, context): Promise<IngestionHttpOutput> => {
    const post = async (batchIndex: number): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${input.baseUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${input.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batch: batchOf(input, batchIndex) }),
      });
      const answer = (await response.json()) as IngestAnswer;
      if (response.status !== 202 || answer.accepted !== input.batchSize || answer.rejected.length > 0) {
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

function batchOf(input: IngestionHttpInput, batchIndex: number): object[] {
  return ingestionBatch(input.runId, batchIndex, input.batchSize, input.customersPerBatch).map(
    (e) => e.event,
  );
}
