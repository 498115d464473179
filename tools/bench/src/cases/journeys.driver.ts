import {
  Headers,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  type MilestoneReachedV1,
} from '@mmp/contracts';
import type { KafkaMessage } from 'kafkajs';
import { defineDriver } from '../driver';
import { LatencyRecorder } from '../latency';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';

export interface JourneyLatencyInput {
  runId: string;
  /** The milestone the measured journey starts on (its one step sends at once). */
  milestoneKey: string;
  warmupCustomers: number;
  customers: number;
  /** Milestones produced per second, open loop. */
  perSecond: number;
  stallTimeoutMs: number;
}

export interface JourneyLatencyOutput {
  measured: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** messages.requested.v1 records seen more than once for a customer: must stay 0. */
  duplicates: number;
}

/** Milestones per produce call: the open-loop pace is kept per call. */
const CHUNK = 10;

/**
 * Produces milestones.reached.v1 at a steady pace and times each customer's
 * messages.requested.v1 coming back: milestone produced → message request consumed.
 */
export const driver = defineDriver(
  __filename,
  async (input: JourneyLatencyInput, context): Promise<JourneyLatencyOutput> => {
    const kafka = context.kafkaClient(`bench-journeys-driver-${input.runId}`);
    const progress = new Progress(input.stallTimeoutMs);
    const producedAt = new Map<string, number>();
    const seen = new Set<string>();
    const recorder = new LatencyRecorder();
    let duplicates = 0;
    const warmupPrefix = `${input.runId}-jw-`;
    const sink = await startCollector({
      kafka,
      topics: [MessagesRequestedTopic.name],
      groupId: `bench-journeys-sink-${input.runId}`,
      progress,
      onBatch: (messages: readonly KafkaMessage[]) => {
        const now = performance.now();
        for (const message of messages) {
          const customerId = message.key?.toString() ?? '';
          const started = producedAt.get(customerId);
          if (started === undefined) continue;
          if (seen.has(customerId)) {
            duplicates += 1;
            continue;
          }
          seen.add(customerId);
          if (!customerId.startsWith(warmupPrefix)) recorder.record(now - started);
        }
      },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    try {
      await producer.connect();
      const phase = async (prefix: string, count: number): Promise<void> => {
        const before = seen.size;
        await produceStream({
          chunks: Math.ceil(count / CHUNK),
          concurrency: 4,
          progress,
          intervalMs: (CHUNK * 1000) / input.perSecond,
          hasRoom: () => true,
          describe: () => `${producedAt.size} produced, ${seen.size} requested`,
          send: async (chunk) => {
            const ids = Array.from(
              { length: Math.min(CHUNK, count - chunk * CHUNK) },
              (_, i) => `${prefix}${chunk * CHUNK + i}`,
            );
            const now = performance.now();
            for (const id of ids) producedAt.set(id, now);
            await producer.send({
              topic: MilestonesReachedTopic.name,
              messages: ids.map((id) => ({
                key: id,
                value: JSON.stringify(milestone(id, input.milestoneKey)),
                headers: { [Headers.schemaVersion]: String(MilestonesReachedTopic.schemaVersion) },
              })),
            });
          },
        });
        await progress.until(
          () => seen.size - before >= count,
          () => `message requests for ${prefix}*: ${seen.size - before}/${count}`,
        );
      };
      await phase(warmupPrefix, input.warmupCustomers);
      context.log(`journeys latency: warmed up with ${input.warmupCustomers} customers`);
      await phase(`${input.runId}-jl-`, input.customers);
      context.log(`journeys latency: ${recorder.summary()}`);
    } finally {
      await producer.disconnect();
      await sink.stop();
    }
    return {
      measured: recorder.count,
      latencyMs: {
        p50: recorder.percentileMs(50),
        p99: recorder.percentileMs(99),
        max: recorder.percentileMs(100),
      },
      duplicates,
    };
  },
);

function milestone(customerId: string, milestoneKey: string): MilestoneReachedV1 {
  return {
    schemaVersion: 1,
    occurrenceId: `occ-${milestoneKey}-${customerId}`,
    milestoneKey,
    customerId,
    occurrence: '1',
    reachedAt: new Date().toISOString(),
    context: {},
    causeEventId: null,
    profile: {
      customerId,
      traits: { email: `${customerId}@example.com`, timezone: 'America/New_York' },
      attributes: {
        lifetimeOrders: 1,
        lifetimeValue: '10.00',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: null,
        eventCounts: {},
      },
    },
  };
}
