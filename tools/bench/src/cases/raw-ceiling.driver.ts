import { defineDriver } from '../driver';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';

export interface RawCeilingInput {
  runId: string;
  inTopic: string;
  outTopic: string;
  /** Rounds of eventsPerRound each: the ceiling is the best round, the others absorb a busy machine's hiccups. */
  rounds: number;
  eventsPerRound: number;
  window: number;
  stallTimeoutMs: number;
}

export interface RawCeilingOutput {
  rounds: { events: number; seconds: number }[];
  /** Records the sink saw more than once (a rebalance); 0 in a quiet run. */
  redelivered: number;
}

/** Events per produce call from the source. */
const CHUNK_EVENTS = 1_000;
/** Distinct keys, so records spread over every partition as real customer ids do. */
const CUSTOMERS = 10_000;

/**
 * The source and the sink around the pipe: streams the events in, round after round, and times
 * each round from its first produce to its last record out of the pipe.
 */
export const driver = defineDriver(
  __filename,
  async (input: RawCeilingInput, context): Promise<RawCeilingOutput> => {
    const { runId } = input;
    const kafka = context.kafkaClient(`bench-raw-driver-${runId}`);
    const progress = new Progress(input.stallTimeoutMs);
    let delivered = 0;
    let lastDeliveredAt = 0;
    const sink = await startCollector({
      kafka,
      topics: [input.outTopic],
      groupId: `bench-raw-sink-${runId}`,
      progress,
      onBatch: (messages) => {
        delivered += messages.length;
        lastDeliveredAt = performance.now();
      },
    });
    const source = kafka.producer({ allowAutoTopicCreation: true });
    try {
      await source.connect();
      const occurredAt = new Date().toISOString();
      let produced = 0;
      const rounds: RawCeilingOutput['rounds'] = [];
      for (let round = 0; round < input.rounds; round += 1) {
        const first = produced;
        const until = first + input.eventsPerRound;
        const startedAt = performance.now();
        await produceStream({
          chunks: Math.ceil(input.eventsPerRound / CHUNK_EVENTS),
          concurrency: 2,
          progress,
          hasRoom: () => produced - delivered + CHUNK_EVENTS <= input.window,
          describe: () => `${produced} produced, ${delivered} through the pipe`,
          send: async (chunk) => {
            const from = first + chunk * CHUNK_EVENTS;
            const count = Math.min(CHUNK_EVENTS, until - from);
            produced += count;
            const messages = Array.from({ length: count }, (_, offset) =>
              rawEvent(runId, from + offset, occurredAt),
            );
            await source.send({ topic: input.inTopic, acks: -1, messages });
          },
        });
        await progress.until(
          () => delivered >= until,
          () => `all ${until} events through the pipe (${delivered} so far)`,
        );
        rounds.push({ events: input.eventsPerRound, seconds: (lastDeliveredAt - startedAt) / 1000 });
      }
      return { rounds, redelivered: delivered - produced };
    } finally {
      await source.disconnect();
      await sink.stop();
    }
  },
);

/** About the size of an order.placed event (~200 bytes), keyed by customer like the real topic. */
function rawEvent(runId: string, index: number, occurredAt: string): { key: string; value: string } {
  const customerId = `c-${runId}-${index % CUSTOMERS}`;
  return {
    key: customerId,
    value: `{"eventId":"raw-${runId}-${index}","type":"order.placed","occurredAt":"${occurredAt}","customerId":"${customerId}","properties":{"orderId":"o-${index}","total":"129.90","currency":"USD"}}`,
  };
}
