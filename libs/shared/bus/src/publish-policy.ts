import type { Topic } from '@mmp/contracts';
import { SpanKind, withSpan } from '@mmp/telemetry';
import type { BusMetrics } from './bus-metrics';
import type { OutgoingMessage } from './message-bus';
import { encodeMessages, type EncodedRecord } from './record-codec';

/**
 * The publish half of the contract, shared by both adapters: one PRODUCER span per call (whose
 * context every message carries as `traceparent`, a child of the handler's span when published
 * from a handler), validation of every message before anything is sent, one send per call.
 */
export async function publishValidated<T>(
  topic: Topic<T>,
  messages: readonly OutgoingMessage<T>[],
  metrics: BusMetrics,
  send: (records: EncodedRecord[]) => Promise<void>,
): Promise<void> {
  if (messages.length === 0) return;
  await withSpan(
    `${topic.name} publish`,
    async () => {
      await send(encodeMessages(topic, messages));
    },
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic.name,
        'messaging.batch.message_count': messages.length,
      },
    },
  );
  metrics.published.inc({ topic: topic.name }, messages.length);
}
