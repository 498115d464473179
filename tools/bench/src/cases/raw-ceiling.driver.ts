import { defineDriver } from '../driver';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';

export interface RawCeilingInput {
  runId: string;
  inTopic: string;
  outTopic: string;
  events: number;
  window: number;
  stallTimeoutMs: number;
}

export interface RawCeilingOutput {
  seconds: number;
  delivered: number;
}

/** Events per produce call from the source. */
const CHUNK_EVENTS = 1_000;
/** Distinct keys, so records spread over every partition as real customer ids do. */
const CUSTOMERS = 10_000;

/** The source and the sink around the pipe: streams the events in and times them coming out. */
export const driver = defineDriver(
  __filename,
  async (input: RawCeilingInput, context): Promise<RawCeilingOutput> => {
    const { runId, events: total } = input;
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
      const startedAt = performance.now();
      await produceStream({
        chunks: Math.ceil(total / CHUNK_EVENTS),
        concurrency: 2,
        progress,
        hasRoom: () => produced - delivered + CHUNK_EVENTS <= input.window,
        describe: () => `${produced} produced, ${delivered} through the pipe`,
        send: async (chunk) => {
          const first = chunk * CHUNK_EVENTS;
          const count = Math.min(CHUNK_EVENTS, total - first);
          produced += count;
          const messages = Array.from({ length: count }, (_, offset) =>
            rawEvent(runId, first + offset, occurredAt),
          );
          await source.send({ topic: input.inTopic, acks: -1, messages });
        },
      });
      await progress.until(
        () => delivered >= total,
        () => `all ${total} events through the pipe (${delivered} so far)`,
      );
      return { seconds: (lastDeliveredAt - startedAt) / 1000, delivered };
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
