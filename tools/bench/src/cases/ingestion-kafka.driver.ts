import { CustomerEventsTopic } from '@mmp/contracts';
import { defineDriver } from '../driver';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';
import { asRetailerRecord, ingestionBatch } from './ingestion-events';

export interface IngestionKafkaInput {
  runId: string;
  /**
   * Where the events go and in what shape: our events on retail.events.v1, or the same events
   * as a retailer's own records (asRetailerRecord) on a program source's topic.
   */
  topic: string;
  dlq: string;
  shape: 'events' | 'retailer';
  /** Events sent through before the clock starts (JIT, connection pools, plan caches). */
  warmupEvents: number;
  /** Timed rounds of eventsPerRound each: the best one counts, as for the raw ceiling. */
  rounds: number;
  eventsPerRound: number;
  /** Events per produce call: the mock hands a consumer one produced batch per partition and fetch. */
  chunkEvents: number;
  customersPerChunk: number;
  /** Events produced and not yet on customer.events.v1, at most. */
  window: number;
  stallTimeoutMs: number;
}

export interface IngestionKafkaOutput {
  rounds: { events: number; seconds: number }[];
  /** customer.events.v1 records of this run seen more than once (a rebalance); 0 in a quiet run. */
  redelivered: number;
}

const EVENT_ID = /"eventId":"([^"]+)"/;

/**
 * The retailer's side of the Kafka ingestion bench: streams the same mix of events as the HTTP
 * case into retail.events.v1, or as a retailer's records into a program source's topic (keyed by
 * customer), and times each round from its first produce to the last of its events on
 * customer.events.v1. A record of the run on the topic's DLQ fails the run: every event is valid.
 */
export const driver = defineDriver(
  __filename,
  async (input: IngestionKafkaInput, context): Promise<IngestionKafkaOutput> => {
    const { runId } = input;
    const kafka = context.kafkaClient(`bench-ingestion-kafka-driver-${runId}`);
    const progress = new Progress(input.stallTimeoutMs);
    const seen = new Set<string>();
    let redelivered = 0;
    let lastSeenAt = 0;
    const prefix = `${runId}-`;
    const profiles = await startCollector({
      kafka,
      topics: [CustomerEventsTopic.name],
      groupId: `bench-ingestion-kafka-profiles-${runId}`,
      progress,
      onBatch: (messages) => {
        for (const message of messages) {
          if (!message.key?.toString().startsWith(prefix)) continue;
          const eventId = EVENT_ID.exec(message.value?.toString() ?? '')?.[1];
          if (eventId === undefined) continue;
          if (seen.has(eventId)) redelivered += 1;
          else seen.add(eventId);
        }
        lastSeenAt = performance.now();
      },
    });
    const deadLetters = await startCollector({
      kafka,
      topics: [input.dlq],
      groupId: `bench-ingestion-kafka-dlq-${runId}`,
      progress,
      onBatch: (messages) => {
        const ours = messages.find((message) => message.key?.toString().startsWith(prefix));
        if (ours) {
          const reason = ours.headers?.['dlq-reason']?.toString() ?? 'no reason';
          progress.fail(new Error(`ingestion dead-lettered an event of the run: ${reason}`));
        }
      },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    try {
      await producer.connect();
      let produced = 0;
      let nextBatch = 0;
      const stream = async (events: number): Promise<number> => {
        const until = produced + events;
        const startedAt = performance.now();
        await produceStream({
          chunks: Math.ceil(events / input.chunkEvents),
          concurrency: 2,
          progress,
          hasRoom: () => produced - seen.size + input.chunkEvents <= input.window,
          describe: () => `${produced} produced, ${seen.size} on ${CustomerEventsTopic.name}`,
          send: async () => {
            const count = Math.min(input.chunkEvents, until - produced);
            const batch = ingestionBatch(runId, nextBatch, count, input.customersPerChunk);
            nextBatch += 1;
            produced += count;
            await producer.send({
              topic: input.topic,
              acks: -1,
              messages: batch.map(({ customerId, event }) => ({
                key: customerId,
                value: JSON.stringify(input.shape === 'retailer' ? asRetailerRecord(event) : event),
              })),
            });
          },
        });
        await progress.until(
          () => seen.size >= until,
          () => `all ${until} events on ${CustomerEventsTopic.name} (${seen.size} so far)`,
        );
        return (lastSeenAt - startedAt) / 1000;
      };

      if (input.warmupEvents > 0) {
        const seconds = await stream(input.warmupEvents);
        context.log(
          `ingestion over Kafka: warmed up with ${input.warmupEvents} events in ${seconds.toFixed(2)} s`,
        );
      }
      const rounds: IngestionKafkaOutput['rounds'] = [];
      for (let round = 0; round < input.rounds; round += 1) {
        const seconds = await stream(input.eventsPerRound);
        context.log(
          `ingestion over Kafka: round ${round + 1}: ${input.eventsPerRound} events in ${seconds.toFixed(2)} s`,
        );
        rounds.push({ events: input.eventsPerRound, seconds });
      }
      return { rounds, redelivered };
    } finally {
      await producer.disconnect().catch(() => undefined);
      await profiles.stop();
      await deadLetters.stop();
    }
  },
);
