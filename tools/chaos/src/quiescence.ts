import {
  ConsentChangesTopic,
  CustomerEventsTopic,
  JourneyEntriesTopic,
  MessagesEventsTopic,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  RetailEventsTopic,
} from '@mmp/contracts';
import type { Admin } from 'kafkajs';

/**
 * Every consumer group of the six services, by topic: the `@OnMessages(topic, group)` handlers in
 * libs/<service>/service. The Kafka mock cluster cannot list groups, so they are named here; a
 * handler added without its line here is not waited for (the run then shows the differences).
 */
export const CONSUMER_GROUPS: readonly { topic: string; groups: readonly string[] }[] = [
  { topic: RetailEventsTopic.name, groups: ['ingestion'] },
  { topic: CustomerEventsTopic.name, groups: ['milestones', 'journeys', 'delivery', 'consent', 'analytics'] },
  { topic: MilestonesReachedTopic.name, groups: ['journeys'] },
  { topic: MessagesRequestedTopic.name, groups: ['delivery'] },
  { topic: MessagesEventsTopic.name, groups: ['journeys', 'delivery', 'consent', 'analytics'] },
  { topic: ConsentChangesTopic.name, groups: ['delivery'] },
  { topic: JourneyEntriesTopic.name, groups: ['analytics'] },
];

/** Where the services stand: how much is left to consume, and a fingerprint of everything seen. */
export interface Progress {
  lag: number;
  /** Changes whenever anything is published, consumed or sent to a provider. */
  fingerprint: string;
}

/** Over Kafka, also the partition a group is furthest behind on. */
export interface KafkaProgress extends Progress {
  worst: { group: string; topic: string; partition: number; lag: number };
}

/** Lag of every service consumer group over the Kafka protocol (committed offsets against the ends). */
export async function kafkaProgress(admin: Admin): Promise<KafkaProgress> {
  let lag = 0;
  let worst: KafkaProgress['worst'] = { group: '', topic: '', partition: 0, lag: 0 };
  const parts: string[] = [];
  for (const { topic, groups } of CONSUMER_GROUPS) {
    const ends = await admin.fetchTopicOffsets(topic);
    parts.push(`${topic}:${ends.map((e) => e.high).join(',')}`);
    for (const group of groups) {
      const [committed] = await admin.fetchOffsets({
        // The bus names a subscription's Kafka group `<group>.<topic>` (kafkaGroupId in @mmp/bus).
        groupId: `${group}.${topic}`,
        topics: [topic],
      });
      for (const end of ends) {
        const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        const from = Number(offset) < 0 ? Number(end.low) : Number(offset);
        const behind = Math.max(0, Number(end.high) - from);
        lag += behind;
        if (behind > worst.lag) worst = { group, topic, partition: end.partition, lag: behind };
        parts.push(`${group}:${offset}`);
      }
    }
  }
  return { lag, worst, fingerprint: parts.join('|') };
}

/**
 * Lag of the one-process platform on its in-process bus, from its Prometheus counters: every
 * message published on a topic must be consumed (or dead-lettered) by each of its groups.
 */
export async function metricsProgress(baseUrl: string): Promise<Progress> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const counter = (name: string, labels: Record<string, string>): number => {
    const wanted = Object.entries(labels);
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (wanted.every(([key, value]) => line.includes(`${key}="${value}"`)))
        sum += Number(line.split(' ').at(-1));
    }
    return sum;
  };
  let lag = 0;
  const parts: string[] = [];
  for (const { topic, groups } of CONSUMER_GROUPS) {
    const published = counter('bus_messages_published_total', { topic });
    parts.push(`${topic}:${published}`);
    for (const group of groups) {
      const handled =
        counter('bus_messages_consumed_total', { topic, group }) +
        counter('bus_messages_dlq_total', { topic, group });
      lag += Math.max(0, published - handled);
      parts.push(`${group}:${handled}`);
    }
  }
  return { lag, fingerprint: parts.join('|') };
}

/**
 * Waits until nothing is left to consume and nothing has changed for `quietMs` (timers and the
 * schedule tick every second, so a quiet spell means they had nothing due), or throws at the deadline.
 */
export async function waitUntilQuiet(
  probe: () => Promise<Progress>,
  options: { quietMs: number; timeoutMs: number; what: string; interrupted?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Progress | undefined;
  let quietSince = Date.now();
  for (;;) {
    if (options.interrupted?.()) return;
    let now: Progress | undefined;
    try {
      now = await probe();
    } catch {
      now = undefined; // A process restarting or a broker hiccup: not quiet.
    }
    if (!now || now.lag > 0 || now.fingerprint !== last?.fingerprint) {
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= options.quietMs) {
      return;
    }
    last = now;
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} did not settle within ${options.timeoutMs} ms (lag ${now?.lag ?? 'unknown'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
