import { setTimeout as sleep } from 'node:timers/promises';
import {
  AllTopics,
  CustomerEventsTopic,
  Headers,
  MessagesEventsTopic,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  RetailEventsTopic,
} from '@mmp/contracts';
import type { KafkaMessage, Producer } from 'kafkajs';
import { defineDriver, type DriverContext } from '../driver';
import { LatencyRecorder } from '../latency';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';
import { orderPathEvents } from '@mmp/test-harness';

export interface OrderPathInput {
  runId: string;
  warmupCustomers: number;
  saturatedCustomers: number;
  /** Customers per produce call while saturating. */
  chunkCustomers: number;
  /** Customers produced whose email was not seen yet, at most. */
  window: number;
  latencyCustomers: number;
  /** Customers per second of the paced phase. */
  latencyRate: number;
  stallTimeoutMs: number;
}

export interface PhaseResult {
  customers: number;
  events: number;
  /** First produce until every event of the phase reached customer.events.v1. */
  profiledSeconds: number;
  /** First produce until every customer's email was seen sent. */
  completedSeconds: number;
  /** Second order produced → `sent` consumed, per customer. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Where the latency goes: p50/p99 of each hop, from the Kafka record timestamps each service's producer set. */
  hopsMs: Record<Hop, { p50: number; p99: number }>;
  /**
   * Paced phase only: whether the platform kept up with the pace (finished within a little of
   * the planned duration); when it did not, its latencies include queueing.
   */
  keptUp?: boolean;
}

/**
 * The order path's hops, each ending when the next record is produced: ingestion (retail event
 * consumed, profile updated, customer event published), milestones, journeys, delivery, and the
 * bench's own consumer seeing the status event.
 */
export const HOPS = [
  'retail → customer event',
  'customer event → milestone',
  'milestone → message request',
  'message request → sent',
  'sent → seen by bench',
] as const;
export type Hop = (typeof HOPS)[number];

export interface OrderPathOutput {
  /** Every customer id of the run starts with it. */
  customerPrefix: string;
  customers: number;
  saturated: PhaseResult;
  paced: PhaseResult | undefined;
  redelivered: { profiles: number; sent: number };
}

/** What the shipped program sends once per customer for two orders. */
export const EXPECTED_JOURNEY = 'second_order_thanks';
const EVENTS_PER_CUSTOMER = 3;
/**
 * Paced phase: one produce call this often, like a retailer's producer flushing its batches;
 * each call carries the customers due in the interval.
 */
const PACED_INTERVAL_MS = 100;
/** A paced phase that ends later than planned by more than this (or 10%) did not keep up. */
const KEEP_UP_SLACK_MS = 5_000;
/** After the last phase: how long to keep listening for a second `sent` that should never come. */
const SETTLE_MS = 2_000;

/**
 * Streams the order path's input into retail.events.v1 and watches customer.events.v1 and
 * messages.events.v1 with consumer groups of its own, checking correctness as it measures.
 * Three phases: a warm-up (not measured), a saturated stream (throughput, and latency under a
 * full window), and a stream paced at a fixed, modest rate (latency as a customer
 * sees it at normal load, without the queueing a full window adds by construction).
 */
export const driver = defineDriver(
  __filename,
  async (input: OrderPathInput, context): Promise<OrderPathOutput> => {
    const { runId } = input;
    const progress = new Progress(input.stallTimeoutMs);
    const tracker = new PathTracker(`bench-${runId}-`, progress);
    const kafka = context.kafkaClient(`bench-path-driver-${runId}`);
    const cleanup: (() => Promise<void>)[] = [];
    try {
      // Started together: each one joins its own group, which takes a few seconds on the mock.
      const collectors = await Promise.allSettled(
        [
          {
            name: 'profiles',
            topics: [CustomerEventsTopic.name],
            onBatch: (batch: readonly KafkaMessage[]) => tracker.onProfiles(batch),
          },
          {
            name: 'messages',
            topics: [MessagesEventsTopic.name],
            onBatch: (batch: readonly KafkaMessage[]) => tracker.onMessageEvents(batch),
          },
          // Only for the per-hop breakdown: when milestones and journeys published for each customer.
          {
            name: 'milestones',
            topics: [MilestonesReachedTopic.name],
            onBatch: (batch: readonly KafkaMessage[]) => tracker.onIntermediate(batch, 'milestone'),
          },
          {
            name: 'requests',
            topics: [MessagesRequestedTopic.name],
            onBatch: (batch: readonly KafkaMessage[]) => tracker.onIntermediate(batch, 'requested'),
          },
          // A dead-lettered record of this run fails it at once, with the service's reason.
          {
            name: 'dlq',
            topics: AllTopics.map((topic) => topic.dlq),
            onBatch: (batch: readonly KafkaMessage[], topic: string) => tracker.onDeadLetters(batch, topic),
          },
        ].map(({ name, topics, onBatch }) =>
          startCollector({ kafka, topics, groupId: `bench-path-${name}-${runId}`, progress, onBatch }),
        ),
      );
      for (const collector of collectors) {
        if (collector.status === 'fulfilled') cleanup.push(() => collector.value.stop());
      }
      for (const collector of collectors) {
        if (collector.status === 'rejected') throw collector.reason;
      }
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      cleanup.push(() => producer.disconnect());
      const stream = (phase: Phase, pacing: Pacing) =>
        streamPhase(phase, pacing, { producer, progress, tracker });

      if (input.warmupCustomers > 0) {
        const warmup = tracker.phase('w', input.warmupCustomers);
        await stream(warmup, { chunkCustomers: input.chunkCustomers, window: input.window });
        context.log(
          `order path: warm-up of ${warmup.customers} customers done in ${(warmup.completedMs() / 1000).toFixed(1)} s`,
        );
      }

      const saturated = tracker.phase('s', input.saturatedCustomers);
      context.log(
        `order path: saturating with ${saturated.customers} customers (${saturated.events} events, window ${input.window} customers)`,
      );
      await stream(saturated, { chunkCustomers: input.chunkCustomers, window: input.window });
      logPhase(context, 'saturated', saturated);

      let paced: PhaseResult | undefined;
      if (input.latencyCustomers > 0) {
        const rate = input.latencyRate;
        const phase = tracker.phase('p', input.latencyCustomers);
        const chunkCustomers = Math.max(1, Math.round((rate * PACED_INTERVAL_MS) / 1000));
        context.log(`order path: pacing ${phase.customers} customers at ${rate} customers/s`);
        await stream(phase, {
          chunkCustomers,
          window: input.window,
          intervalMs: (chunkCustomers / rate) * 1000,
        });
        logPhase(context, 'paced', phase);
        const plannedMs = (phase.customers / rate) * 1000;
        const keptUp = phase.completedMs() <= plannedMs + Math.max(KEEP_UP_SLACK_MS, plannedMs * 0.1);
        paced = { ...phase.result(), keptUp };
      }

      await sleep(SETTLE_MS);
      tracker.verify();
      return {
        customerPrefix: tracker.prefix,
        customers: tracker.customerCount(),
        saturated: saturated.result(),
        paced,
        redelivered: tracker.redelivered,
      };
    } finally {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
    }
  },
);

function logPhase(context: DriverContext, name: string, phase: Phase): void {
  context.log(
    `order path: ${name}: ${phase.events} events at profiles in ${(phase.profiledMs() / 1000).toFixed(2)} s, ` +
      `${phase.customers} emails in ${(phase.completedMs() / 1000).toFixed(2)} s; ${phase.latency.summary()}`,
  );
}

interface Pacing {
  chunkCustomers: number;
  /** Customers produced whose email was not seen yet, at most. */
  window: number;
  /** Paced phases only: the time between produce calls. */
  intervalMs?: number;
}

async function streamPhase(
  phase: Phase,
  pacing: Pacing,
  deps: { producer: Producer; progress: Progress; tracker: PathTracker },
): Promise<void> {
  const { producer, progress, tracker } = deps;
  const window = Math.max(pacing.window, pacing.chunkCustomers);
  phase.startedAt = performance.now();
  await produceStream({
    chunks: Math.ceil(phase.customers / pacing.chunkCustomers),
    concurrency: 2,
    progress,
    ...(pacing.intervalMs === undefined ? {} : { intervalMs: pacing.intervalMs }),
    hasRoom: () => phase.produced - phase.sent + pacing.chunkCustomers <= window,
    describe: () => phase.describe(),
    send: async (chunk) => {
      const first = chunk * pacing.chunkCustomers;
      const count = Math.min(pacing.chunkCustomers, phase.customers - first);
      const now = new Date();
      const records = [];
      for (let index = first; index < first + count; index += 1) {
        const customerId = phase.customerId(index);
        for (const event of orderPathEvents(customerId, now)) {
          records.push({ key: customerId, value: JSON.stringify(event) });
        }
      }
      // The clock starts as the second orders are handed to the producer.
      const sentAt = epochNow();
      for (let index = first; index < first + count; index += 1)
        tracker.produced(phase, phase.customerId(index), sentAt);
      await producer.send({ topic: RetailEventsTopic.name, acks: -1, messages: records });
    },
  });
  await progress.until(
    () => phase.sent >= phase.customers && phase.profiled >= phase.events,
    () => phase.describe(),
  );
}

/** One stream of customers and what has come out of the platform for them so far. */
class Phase {
  readonly events: number;
  startedAt = 0;
  produced = 0;
  profiled = 0;
  sent = 0;
  lastProfiledAt = 0;
  lastSentAt = 0;
  readonly latency = new LatencyRecorder();
  readonly states: CustomerState[] = [];

  constructor(
    private readonly prefix: string,
    readonly customers: number,
  ) {
    this.events = customers * EVENTS_PER_CUSTOMER;
  }

  customerId(index: number): string {
    return `${this.prefix}${index}`;
  }

  profiledMs(): number {
    return this.lastProfiledAt - this.startedAt;
  }

  completedMs(): number {
    return this.lastSentAt - this.startedAt;
  }

  result(): PhaseResult {
    return {
      customers: this.customers,
      events: this.events,
      profiledSeconds: this.profiledMs() / 1000,
      completedSeconds: this.completedMs() / 1000,
      latencyMs: {
        p50: this.latency.percentileMs(50),
        p90: this.latency.percentileMs(90),
        p99: this.latency.percentileMs(99),
        max: this.latency.percentileMs(100),
      },
      hopsMs: this.hops(),
    };
  }

  private hops(): PhaseResult['hopsMs'] {
    const recorders = HOPS.map(() => new LatencyRecorder());
    for (const { secondOrderAt, stamps } of this.states) {
      const chain = [
        secondOrderAt,
        stamps.profiled,
        stamps.milestone,
        stamps.requested,
        stamps.sent,
        stamps.observed,
      ];
      recorders.forEach((recorder, hop) => {
        const from = chain[hop];
        const to = chain[hop + 1];
        // Clamped at 0: record timestamps are whole milliseconds from several producers.
        if (from !== undefined && to !== undefined) recorder.record(Math.max(0, to - from));
      });
    }
    return Object.fromEntries(
      HOPS.map((hop, index) => [
        hop,
        { p50: recorders[index]!.percentileMs(50), p99: recorders[index]!.percentileMs(99) },
      ]),
    ) as PhaseResult['hopsMs'];
  }

  describe(): string {
    return `${this.produced}/${this.customers} customers produced, ${this.profiled}/${this.events} events at profiles, ${this.sent}/${this.customers} emails sent`;
  }
}

interface CustomerState {
  phase: Phase;
  /** Epoch milliseconds, like the record timestamps below. */
  secondOrderAt: number;
  messageId: string | undefined;
  /** When each hop published for this customer's second order (record timestamps), and when the bench saw the email sent. */
  stamps: { profiled?: number; milestone?: number; requested?: number; sent?: number; observed?: number };
}

/** Epoch milliseconds with sub-millisecond precision, comparable with Kafka record timestamps. */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Checks correctness while measuring: each of the run's events reaches profiles, each customer
 * gets exactly one `sent` second_order_thanks message, and nothing is failed or suppressed.
 * Records of other runs on a shared cluster are told apart by the run's customer id prefix.
 */
class PathTracker {
  readonly redelivered = { profiles: 0, sent: 0 };
  private readonly customers = new Map<string, CustomerState>();
  private readonly eventsAtProfiles = new Set<string>();
  private readonly problems: string[] = [];

  constructor(
    readonly prefix: string,
    private readonly progress: Progress,
  ) {}

  phase(key: string, customers: number): Phase {
    return new Phase(`${this.prefix}${key}-`, customers);
  }

  customerCount(): number {
    return this.customers.size;
  }

  produced(phase: Phase, customerId: string, at: number): void {
    const state: CustomerState = { phase, secondOrderAt: at, messageId: undefined, stamps: {} };
    this.customers.set(customerId, state);
    phase.states.push(state);
    phase.produced += 1;
  }

  onProfiles(messages: readonly KafkaMessage[]): void {
    const now = performance.now();
    for (const message of messages) {
      const state = this.ours(message);
      if (!state) continue;
      const { eventId } = JSON.parse(message.value?.toString() ?? '{}') as { eventId?: string };
      if (!eventId) {
        this.problem(`a ${CustomerEventsTopic.name} record without eventId for ${message.key?.toString()}`);
      } else if (this.eventsAtProfiles.has(eventId)) {
        this.redelivered.profiles += 1;
      } else {
        this.eventsAtProfiles.add(eventId);
        if (eventId.endsWith('-o2')) state.stamps.profiled = Number(message.timestamp);
        state.phase.profiled += 1;
        state.phase.lastProfiledAt = now;
      }
    }
  }

  onDeadLetters(messages: readonly KafkaMessage[], topic: string): void {
    for (const message of messages) {
      if (!this.ours(message)) continue;
      const header = (name: string) => message.headers?.[name]?.toString();
      this.problem(
        `${message.key?.toString()}: dead-lettered to ${topic} by ${header(Headers.dlqConsumerGroup) ?? 'a service'}: ${header(Headers.dlqReason) ?? 'no reason given'}`,
      );
    }
  }

  onIntermediate(messages: readonly KafkaMessage[], hop: 'milestone' | 'requested'): void {
    for (const message of messages) {
      const state = this.ours(message);
      if (state) state.stamps[hop] ??= Number(message.timestamp);
    }
  }

  onMessageEvents(messages: readonly KafkaMessage[]): void {
    const now = epochNow();
    for (const message of messages) {
      const state = this.ours(message);
      if (!state) continue;
      const customerId = message.key?.toString() ?? '';
      const event = JSON.parse(message.value?.toString() ?? '{}') as {
        messageId?: string;
        status?: string;
        reason?: string | null;
        journeyKey?: string;
      };
      if (event.journeyKey !== EXPECTED_JOURNEY) {
        this.problem(`${customerId}: unexpected message of journey ${event.journeyKey} (${event.status})`);
      } else if (event.status === 'sent' && event.messageId) {
        if (state.messageId === undefined) {
          state.messageId = event.messageId;
          state.phase.latency.record(now - state.secondOrderAt);
          state.stamps.sent = Number(message.timestamp);
          state.stamps.observed = now;
          state.phase.sent += 1;
          state.phase.lastSentAt = performance.now();
        } else if (state.messageId === event.messageId) {
          this.redelivered.sent += 1;
        } else {
          this.problem(`${customerId}: a second sent message ${event.messageId} after ${state.messageId}`);
        }
      } else if (event.status !== 'queued') {
        this.problem(
          `${customerId}: message ${event.messageId} is ${event.status}${event.reason ? ` (${event.reason})` : ''}`,
        );
      }
    }
  }

  /** After the run: nothing missing, nothing doubled. */
  verify(): void {
    const expectedEvents = this.customers.size * EVENTS_PER_CUSTOMER;
    if (this.eventsAtProfiles.size !== expectedEvents) {
      this.problem(
        `${expectedEvents - this.eventsAtProfiles.size} of ${expectedEvents} events never reached ${CustomerEventsTopic.name}`,
      );
    }
    for (const [customerId, state] of this.customers) {
      if (state.messageId === undefined)
        this.problem(`${customerId}: no sent message on ${MessagesEventsTopic.name}`);
    }
    throwProblems(this.problems);
  }

  private ours(message: KafkaMessage): CustomerState | undefined {
    const key = message.key?.toString();
    if (!key?.startsWith(this.prefix)) return undefined;
    const state = this.customers.get(key);
    if (!state) this.problem(`a record for ${key}, which this run never produced`);
    return state;
  }

  /** Fails the run at once: a wrong path makes its speed meaningless. */
  private problem(description: string): void {
    this.problems.push(description);
    if (this.problems.length === 1) this.progress.fail(new Error(`the order path is wrong: ${description}`));
  }
}

export function throwProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).join('\n  ');
  throw new Error(
    `the order path is wrong (${problems.length} problems):\n  ${shown}${problems.length > 10 ? '\n  ...' : ''}`,
  );
}
