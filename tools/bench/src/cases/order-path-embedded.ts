import { InMemoryBus, PostgresBus, type IncomingMessage, type MessageBus } from '@mmp/bus';
import { CustomerEventsTopic, MessagesEventsTopic, RetailEventsTopic } from '@mmp/contracts';
import { ALL_SERVICES } from '@mmp/platform-services';
import { orderPathEvents } from '@mmp/test-harness';
import type { BenchCase, BenchContext } from '../bench-case';
import { withRatio, type Figure } from '../figures';
import { LatencyRecorder } from '../latency';
import { Progress } from '../progress';
import { startBenchServices } from '../services';
import { produceStream } from '../streaming';
import { EXPECTED_JOURNEY } from './order-path.driver';

const EVENTS_PER_CUSTOMER = 3;
const EMAIL_RATE_LIMIT_PER_SECOND = 1_000_000;
/** Paced phase: one publish call this often, as in the Kafka order path. */
const PACED_INTERVAL_MS = 100;

type BusKind = 'in-memory' | 'embedded';

const BUSES: Record<BusKind, { label: string; create: (databaseUrl: string) => MessageBus }> = {
  'in-memory': { label: 'in-memory bus', create: () => new InMemoryBus() },
  embedded: { label: 'embedded bus (Postgres)', create: (url) => new PostgresBus({ url }) },
};

/**
 * The order path of `npm start`: all six services in this process on the in-process bus, first
 * the in-memory one (what `npm start` ran before issue 17), then the durable Postgres one it
 * runs now, each on a fresh database. Neither bus reaches another thread, so the load is
 * published from this thread too (the same cost for both): a registration and two orders per
 * customer into retail.events.v1, each customer out as exactly one `sent` email. The embedded
 * figures carry their ratio to the in-memory ones; the Kafka order path runs the same stream.
 */
export const orderPathEmbeddedCase: BenchCase = {
  id: 'order-path-embedded',
  description: 'six services on the in-process buses, in memory then on Postgres: retail events → sent email',
  async run(context) {
    const inMemory = await measure(context, 'in-memory');
    const embedded = await measure(context, 'embedded');
    const embeddedFigures = figuresOf('embedded', embedded);
    const inMemoryFigures = figuresOf('in-memory', inMemory);
    return [
      ...inMemoryFigures,
      ...embeddedFigures.map((figure, index) => withRatio(figure, inMemoryFigures[index])),
    ];
  },
};

interface PhaseResult {
  events: number;
  customers: number;
  /** First publish until every event of the phase reached customer.events.v1. */
  profiledSeconds: number;
  /** First publish until every customer's email was sent. */
  completedSeconds: number;
  latencyMs: { p50: number; p99: number };
}

interface Measured {
  saturated: PhaseResult;
  paced: PhaseResult | undefined;
}

async function measure(context: BenchContext, kind: BusKind): Promise<Measured> {
  const { options } = context;
  const tracker = new Tracker(`bench-${context.runId}-${kind}-`, new Progress(options.stallTimeoutMs));
  let bus: MessageBus | undefined;
  const started = performance.now();
  await startBenchServices(context, {
    name: `platform-${kind}`,
    services: ALL_SERVICES,
    env: { EMAIL_RATE_LIMIT: String(EMAIL_RATE_LIMIT_PER_SECOND) },
    bus: (config) => {
      const created = BUSES[kind].create(config.requireDatabaseUrl());
      tracker.subscribe(created);
      bus = created;
      return created;
    },
  });
  if (!bus) throw new Error('the bench services started without the bus');
  const publisher = bus;
  context.log(
    `order path (${kind}): platform started in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const stream = async (phase: Phase, chunkCustomers: number, intervalMs?: number): Promise<void> => {
    phase.startedAt = performance.now();
    await produceStream({
      chunks: Math.ceil(phase.customers / chunkCustomers),
      concurrency: 2,
      progress: tracker.progress,
      ...(intervalMs === undefined ? {} : { intervalMs }),
      hasRoom: () =>
        phase.produced - phase.sent + chunkCustomers <= Math.max(options.pathWindow, chunkCustomers),
      describe: () => phase.describe(),
      send: async (chunk) => {
        const first = chunk * chunkCustomers;
        const ids = Array.from({ length: Math.min(chunkCustomers, phase.customers - first) }, (_, i) =>
          phase.customerId(first + i),
        );
        const now = new Date();
        const records = ids.flatMap((id) =>
          orderPathEvents(id, now).map((event) => ({ key: id, value: JSON.stringify(event) })),
        );
        const sentAt = performance.now();
        for (const id of ids) tracker.produced(phase, id, sentAt);
        await publisher.publishRaw(RetailEventsTopic.name, records);
      },
    });
    await tracker.progress.until(
      () => phase.sent >= phase.customers && phase.profiled >= phase.events,
      () => phase.describe(),
    );
  };

  if (options.pathWarmupCustomers > 0) {
    await stream(tracker.phase('w', options.pathWarmupCustomers), options.pathChunkCustomers);
  }
  const saturated = tracker.phase('s', Math.max(1, Math.round(options.pathEvents / EVENTS_PER_CUSTOMER)));
  await stream(saturated, options.pathChunkCustomers);
  context.log(`order path (${kind}): saturated: ${saturated.summary()}`);
  let paced: PhaseResult | undefined;
  if (options.latencyCustomers > 0) {
    const phase = tracker.phase('p', options.latencyCustomers);
    const chunkCustomers = Math.max(1, Math.round((options.latencyRate * PACED_INTERVAL_MS) / 1000));
    await stream(phase, chunkCustomers, (chunkCustomers / options.latencyRate) * 1000);
    context.log(`order path (${kind}): paced at ${options.latencyRate} customers/s: ${phase.summary()}`);
    paced = phase.result();
  }
  tracker.verify();
  return { saturated: saturated.result(), paced };
}

function figuresOf(kind: BusKind, measured: Measured): Figure[] {
  const { label } = BUSES[kind];
  const { saturated, paced } = measured;
  const figures: Figure[] = [
    {
      name: `order path on the ${label}: events/s to profiles`,
      value: saturated.events / saturated.profiledSeconds,
      unit: 'events/s',
    },
    {
      name: `order path on the ${label}: completed customers`,
      value: saturated.customers / saturated.completedSeconds,
      unit: 'customers/s',
    },
    {
      name: `order path on the ${label}: latency p50 (saturated)`,
      value: saturated.latencyMs.p50,
      unit: 'ms',
    },
    {
      name: `order path on the ${label}: latency p99 (saturated)`,
      value: saturated.latencyMs.p99,
      unit: 'ms',
    },
  ];
  if (paced) {
    figures.push(
      { name: `order path on the ${label}: latency p50 (paced)`, value: paced.latencyMs.p50, unit: 'ms' },
      { name: `order path on the ${label}: latency p99 (paced)`, value: paced.latencyMs.p99, unit: 'ms' },
    );
  }
  return figures;
}

/** One stream of customers and what came out of the platform for them so far. */
class Phase {
  readonly events: number;
  startedAt = 0;
  produced = 0;
  profiled = 0;
  sent = 0;
  lastProfiledAt = 0;
  lastSentAt = 0;
  readonly latency = new LatencyRecorder();

  constructor(
    private readonly prefix: string,
    readonly customers: number,
  ) {
    this.events = customers * EVENTS_PER_CUSTOMER;
  }

  customerId(index: number): string {
    return `${this.prefix}${index}`;
  }

  result(): PhaseResult {
    return {
      events: this.events,
      customers: this.customers,
      profiledSeconds: (this.lastProfiledAt - this.startedAt) / 1000,
      completedSeconds: (this.lastSentAt - this.startedAt) / 1000,
      latencyMs: { p50: this.latency.percentileMs(50), p99: this.latency.percentileMs(99) },
    };
  }

  summary(): string {
    const { profiledSeconds, completedSeconds } = this.result();
    return `${this.events} events at profiles in ${profiledSeconds.toFixed(2)} s, ${this.customers} emails in ${completedSeconds.toFixed(2)} s; ${this.latency.summary()}`;
  }

  describe(): string {
    return `${this.produced}/${this.customers} customers published, ${this.profiled}/${this.events} events at profiles, ${this.sent} emails sent`;
  }
}

interface CustomerState {
  phase: Phase;
  secondOrderAt: number;
  messageId: string | undefined;
}

/** Watches customer.events.v1 and messages.events.v1 with consumer groups of its own, on the bus under test. */
class Tracker {
  private readonly customers = new Map<string, CustomerState>();
  private readonly eventsAtProfiles = new Set<string>();
  private readonly problems: string[] = [];

  constructor(
    private readonly prefix: string,
    readonly progress: Progress,
  ) {}

  subscribe(bus: MessageBus): void {
    bus.subscribe({
      topic: CustomerEventsTopic,
      groupId: 'bench-profiles',
      handler: async (batch) => this.onProfiles(batch),
    });
    bus.subscribe({
      topic: MessagesEventsTopic,
      groupId: 'bench-messages',
      handler: async (batch) => this.onMessageEvents(batch),
    });
  }

  phase(key: string, customers: number): Phase {
    return new Phase(`${this.prefix}${key}-`, customers);
  }

  produced(phase: Phase, customerId: string, at: number): void {
    this.customers.set(customerId, { phase, secondOrderAt: at, messageId: undefined });
    phase.produced += 1;
  }

  verify(): void {
    for (const [customerId, state] of this.customers) {
      if (state.messageId === undefined) this.problems.push(`${customerId}: no sent message`);
    }
    if (this.problems.length > 0) throw new Error(this.problems.slice(0, 10).join('; '));
  }

  private onProfiles(batch: readonly IncomingMessage<{ eventId: string }>[]): void {
    const now = performance.now();
    for (const message of batch) {
      const state = this.customers.get(message.key);
      if (!state || this.eventsAtProfiles.has(message.value.eventId)) continue;
      this.eventsAtProfiles.add(message.value.eventId);
      state.phase.profiled += 1;
      state.phase.lastProfiledAt = now;
    }
    this.progress.notify();
  }

  private onMessageEvents(
    batch: readonly IncomingMessage<{ messageId: string; status: string; journeyKey: string }>[],
  ): void {
    const now = performance.now();
    for (const message of batch) {
      const state = this.customers.get(message.key);
      if (!state || message.value.status !== 'sent') continue;
      if (message.value.journeyKey !== EXPECTED_JOURNEY) {
        this.problems.push(`${message.key}: a message of journey ${message.value.journeyKey}`);
      } else if (state.messageId === undefined) {
        state.messageId = message.value.messageId;
        state.phase.latency.record(now - state.secondOrderAt);
        state.phase.sent += 1;
        state.phase.lastSentAt = now;
      } else if (state.messageId !== message.value.messageId) {
        this.problems.push(`${message.key}: a second sent message ${message.value.messageId}`);
      }
    }
    this.progress.notify();
  }
}
