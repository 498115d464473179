import { addScrapedGaugeSource } from '@mmp/telemetry';
import { Counter, Histogram, register } from 'prom-client';
import type { MessageBus } from './message-bus';

export interface BusMetrics {
  published: Counter<'topic'>;
  consumed: Counter<'topic' | 'group'>;
  deadLettered: Counter<'topic' | 'group'>;
  batchDuration: Histogram<'topic' | 'group'>;
}

let metrics: BusMetrics | undefined;

/**
 * The bus's metrics on prom-client's default registry. Shared by every bus in the process
 * (the platform runs six services in one): registering a name twice would throw, so an
 * existing metric is reused.
 */
export function busMetrics(): BusMetrics {
  metrics ??= {
    published: counter('bus_messages_published_total', 'Messages published, by topic.', ['topic']),
    consumed: counter(
      'bus_messages_consumed_total',
      'Messages handled successfully, by topic and consumer group.',
      ['topic', 'group'],
    ),
    deadLettered: counter(
      'bus_messages_dlq_total',
      'Messages sent to the dead-letter topic, by source topic and group.',
      ['topic', 'group'],
    ),
    batchDuration: histogram(
      'bus_batch_duration_seconds',
      'Time a handler took for one batch, failures included.',
      ['topic', 'group'],
    ),
  };
  return metrics;
}

/** A counter on the default registry, or the one already registered under that name. */
export function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help, labelNames });
}

function histogram<L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Histogram) return existing;
  return new Histogram({
    name,
    help,
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
}

/**
 * `bus_consumer_lag_messages{topic,partition,group}`, read from the bus at each scrape, while it
 * runs: a bus adds itself when it starts and calls the returned function when it stops.
 */
export function addConsumerLagSource(bus: Pick<MessageBus, 'consumerLag'>): () => void {
  return addScrapedGaugeSource(
    {
      name: 'bus_consumer_lag_messages',
      help: 'Messages on the topic partition that the consumer group has not yet handled (end of the log less the committed offset).',
      labelNames: ['topic', 'partition', 'group'],
    },
    async () =>
      (await bus.consumerLag()).map(({ topic, partition, group, lag }) => ({
        labels: { topic, partition: String(partition), group },
        value: lag,
      })),
  );
}
