import { RetailEventsTopic } from '@mmp/contracts';
import { findFreePort } from '@mmp/persistence';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { moveClocks } from './clock';
import {
  applyConsent,
  chunk,
  interleave,
  postBatch,
  type Deployment,
  type Faults,
  type Rejections,
  type ServiceName,
} from './deployment';
import { ProviderFakes } from './fakes';
import type { ConsentChange, EventSequence } from './history';
import { forEachLimited } from './http';
import { GROUP_EVICTION_MS, ServiceProcess } from './processes';
import { kafkaProgress, waitUntilQuiet, type KafkaProgress } from './quiescence';
import { SeededRandom } from './random';
import type { RunSettings } from './settings';

/** The services as separate processes; milestones, journeys and delivery run twice. */
const INSTANCES: readonly { app: string; count: number }[] = [
  { app: 'ingestion', count: 1 },
  { app: 'milestones', count: 2 },
  { app: 'journeys', count: 2 },
  { app: 'delivery', count: 2 },
  { app: 'consent', count: 1 },
  { app: 'analytics', count: 1 },
];
/**
 * The order clock moves are posted in: producers of time-driven work (the milestone schedule,
 * journey timers) last, so that whoever consumes what they emit already has the new time.
 */
const CLOCK_ORDER = ['ingestion', 'consent', 'analytics', 'delivery', 'journeys', 'milestones'];
/** HTTP clients posting side by side; each owns its customers, so their order holds. */
const HTTP_LANES = 3;
const HTTP_BATCH_SIZES = [1, 3, 10, 50, 200, 500, 1000];
const KAFKA_CHUNK_SIZES = [1, 10, 100, 500];
/**
 * The most records a consumer group may be behind on one partition before posting pauses. The
 * mock keeps about 5 MB a partition, some 3,000 records that carry a profile: a group whose
 * instance was killed reads nothing for the 30 s its session takes to expire, and at full
 * speed the records it had not read were deleted before it came back (a void run). A real
 * cluster keeps days; the pause stands in for that, not for anything the services must do.
 */
const RETENTION_HEADROOM = 1500;
/** How long a lag reading answers for the posts after it. */
const LAG_READING_MS = 1000;

/**
 * The chaos cluster: nine service processes on the Kafka protocol and one Postgres, events
 * posted over HTTP in batches of every size and produced on retail.events.v1 (each customer's
 * events of a stage on one of the two, in order), while a random process is SIGKILLed every few
 * seconds and restarted.
 *
 * A restarted process starts on the wall clock and learns the sandbox time when it is posted
 * to it, after it is ready; its consumers run before that. Only journeys decides by the time
 * of consumption (entry time, waits, quiet hours, caps), so a killed journeys instance is
 * restarted only once the stage settled on the other one, and gets the clock before anything
 * new reaches it.
 */
export class ClusterDeployment implements Deployment {
  readonly name = 'chaos';
  readonly rejections: Rejections = { count: 0, first: [] };
  private readonly random: SeededRandom;
  private armed = false;
  /** Events are being posted, or the clock moved: when kills happen. */
  private acting = false;
  private stageKind: 'clock' | 'events' | 'consent' = 'clock';
  private stageKills = 0;
  private stopped = false;
  private restarting: Promise<void> | undefined;
  private readonly pending: ServiceProcess[] = [];
  private lastFaultAt = 0;
  private clockNow: Date | undefined;
  private kills = 0;
  private readonly killsByApp: Record<string, number> = {};
  private survived = 0;
  /** Restarts of processes whose consumer gave up on its own (not killed by the run). */
  private readonly log: string[] = [];
  private readonly killer: Promise<void>;
  private failure: unknown;
  private lagReading: { at: number; progress: Promise<KafkaProgress> } | undefined;
  /** Posters waiting in withinRetention, and since when the first of them has. */
  private paused = { posters: 0, since: 0 };

  private constructor(
    readonly fakes: ProviderFakes,
    private readonly processes: readonly ServiceProcess[],
    private readonly producer: Producer,
    private readonly admin: Admin,
    private readonly settings: RunSettings,
    private readonly onLog: (line: string) => void,
  ) {
    this.random = new SeededRandom(settings.seed ^ 0x5eed);
    this.killer = this.killLoop();
  }

  static async start(
    settings: RunSettings,
    infrastructure: { databaseUrl: string; brokers: readonly string[] },
    onLog: (line: string) => void,
  ): Promise<ClusterDeployment> {
    const fakes = await ProviderFakes.start();
    const env = {
      ...settings.serviceEnvironment,
      ...fakes.environment(),
      DATABASE_URL: infrastructure.databaseUrl,
      KAFKA_BROKERS: infrastructure.brokers.join(','),
    };
    const processes: ServiceProcess[] = [];
    for (const { app, count } of INSTANCES) {
      for (let n = 1; n <= count; n += 1) {
        processes.push(new ServiceProcess(`${app}#${n}`, app, await findFreePort(), env));
      }
    }
    const kafka = new Kafka({
      clientId: 'chaos-replay',
      brokers: [...infrastructure.brokers],
      logLevel: logLevel.NOTHING,
    });
    // One request in flight: a retried produce can then not overtake the one after it.
    const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true });
    const admin = kafka.admin();
    try {
      // First instances one service at a time (each migrates its schema), then the second ones.
      const first = processes.filter((p) => p.name.endsWith('#1'));
      await forEachLimited(first, 3, (p) => p.start(settings.startTimeoutMs));
      await forEachLimited(
        processes.filter((p) => !p.name.endsWith('#1')),
        3,
        (p) => p.start(settings.startTimeoutMs),
      );
      await producer.connect();
      await admin.connect();
    } catch (error) {
      await Promise.all(processes.map((p) => p.stop()));
      await fakes.stop();
      throw error;
    }
    return new ClusterDeployment(fakes, processes, producer, admin, settings, onLog);
  }

  url(service: ServiceName): string {
    const found = this.processes.find((p) => p.app === service);
    if (!found) throw new Error(`no ${service} process`);
    return found.url;
  }

  async postEvents(stage: number, sequences: readonly EventSequence[]): Promise<void> {
    const random = new SeededRandom(this.settings.seed * 7919 + stage);
    const http: EventSequence[][] = Array.from({ length: HTTP_LANES }, () => []);
    const kafka: EventSequence[] = [];
    for (const sequence of sequences) {
      if (random.chance(0.5)) kafka.push(sequence);
      else http[random.int(0, HTTP_LANES - 1)]?.push(sequence);
    }
    const ingestion = () => this.url('ingestion');
    const lanes = http.map(async (laneSequences) => {
      const laneRandom = new SeededRandom(random.int(1, 1 << 30));
      const stream = interleave(laneRandom, laneSequences).map((item) => item.event);
      for (const batch of chunk(laneRandom, stream, HTTP_BATCH_SIZES)) {
        await this.withinRetention();
        await postBatch(ingestion, batch, this.rejections);
      }
    });
    const produced = (async () => {
      const stream = interleave(random, kafka);
      for (const records of chunk(random, stream, KAFKA_CHUNK_SIZES)) {
        await this.withinRetention();
        await this.producer.send({
          topic: RetailEventsTopic.name,
          acks: -1,
          messages: records.map(({ key, event }) => ({ key, value: JSON.stringify(event) })),
        });
      }
    })();
    this.acting = true;
    try {
      await Promise.all([...lanes, produced]);
    } finally {
      this.acting = false;
    }
  }

  async applyConsent(changes: readonly ConsentChange[]): Promise<void> {
    await applyConsent(() => this.url('consent'), changes);
  }

  async moveClock(now: Date): Promise<void> {
    this.clockNow = now;
    const ordered = [...this.processes]
      .filter((p) => p.running)
      .sort((a, b) => CLOCK_ORDER.indexOf(a.app) - CLOCK_ORDER.indexOf(b.app));
    this.acting = true;
    try {
      await moveClocks(ordered, now);
    } finally {
      this.acting = false;
    }
  }

  async beforeStage(kind: 'clock' | 'events' | 'consent'): Promise<void> {
    this.stageKind = kind;
    this.stageKills = 0;
    if (kind !== 'consent') {
      this.armed = true;
      return;
    }
    // Consent changes are stamped with the consent process's clock, and a publish a crash
    // stranded must go out before them: no restart under way, no sweep still to come.
    await this.endFaults();
  }

  async settle(what: string): Promise<void> {
    for (;;) {
      await this.restarting;
      if (this.failure) throw new Error('a restart after a kill failed', { cause: this.failure });
      await waitUntilQuiet(
        async () => {
          const progress = await kafkaProgress(this.admin);
          return { lag: progress.lag, fingerprint: `${progress.fingerprint}|calls:${this.fakes.total()}` };
        },
        {
          quietMs: this.settings.quietMs,
          timeoutMs: this.settings.settleTimeoutMs,
          what: `chaos ${what}`,
        },
      );
      if (this.restarting) continue;
      const waiting = this.pending.shift();
      if (waiting) {
        this.restartInBackground(waiting);
        continue;
      }
      const sinceFault = Date.now() - this.lastFaultAt;
      if (sinceFault < this.settings.afterFaultMs) {
        await new Promise((resolve) => setTimeout(resolve, this.settings.afterFaultMs - sinceFault));
        continue;
      }
      return;
    }
  }

  /** Waits while a consumer group is too far behind on a partition to stay within the mock's retention. */
  private async withinRetention(): Promise<void> {
    let waiting = false;
    for (;;) {
      const reading = this.lagReading;
      if (!reading || Date.now() - reading.at > LAG_READING_MS) {
        this.lagReading = { at: Date.now(), progress: kafkaProgress(this.admin) };
      }
      let worst: KafkaProgress['worst'] | undefined;
      try {
        worst = (await this.lagReading?.progress)?.worst;
      } catch {
        worst = undefined; // A broker hiccup: read again.
      }
      if (worst && worst.lag <= RETENTION_HEADROOM) break;
      if (!waiting) {
        waiting = true;
        if (this.paused.posters++ === 0) {
          this.paused.since = Date.now();
          const behind = worst
            ? `${worst.group} is ${worst.lag} records behind on ${worst.topic} partition ${worst.partition}`
            : 'the lag could not be read';
          this.onLog(`posting paused: ${behind}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (waiting && --this.paused.posters === 0) {
      this.onLog(`posting resumed after ${((Date.now() - this.paused.since) / 1000).toFixed(1)} s`);
    }
  }

  faults(): Faults {
    return {
      kills: this.kills,
      killsByApp: { ...this.killsByApp },
      survived: this.survived,
      log: [...this.log],
    };
  }

  /** Restarts `process`; the killer waits meanwhile, and `settle` awaits it (and its failure). */
  private restartInBackground(process: ServiceProcess, afterKill = true): void {
    this.restarting = this.restart(process, afterKill)
      .catch((error: unknown) => {
        this.failure = error;
      })
      .finally(() => {
        this.restarting = undefined;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.armed = false;
    await this.killer;
    await this.restarting;
    await this.producer.disconnect();
    await this.admin.disconnect();
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.fakes.stop();
  }

  async endFaults(): Promise<void> {
    this.armed = false;
    await this.settle('the last faults');
  }

  private async killLoop(): Promise<void> {
    while (!this.stopped) {
      await new Promise((resolve) =>
        setTimeout(resolve, this.settings.killEveryMs * (0.5 + this.random.next())),
      );
      if (!this.armed || this.stopped || this.restarting || this.pending.length > 0) continue;
      if (this.kills >= this.settings.maxKills) continue;
      // While events flow or the clock moves; once they are in, an events stage still gets its
      // first kill while it settles, but no more: each kill restarts the wait for quiet.
      if (!this.acting && !(this.stageKind === 'events' && this.stageKills === 0)) continue;
      const victim = this.random.pick(this.processes.filter((p) => p.running));
      this.kills += 1;
      this.killsByApp[victim.app] = (this.killsByApp[victim.app] ?? 0) + 1;
      this.stageKills += 1;
      this.lastFaultAt = Date.now();
      await victim.kill();
      this.note(`kill ${this.kills}: SIGKILL ${victim.name}`);
      if (victim.app === 'journeys') {
        this.pending.push(victim);
      } else {
        this.restartInBackground(victim);
      }
    }
  }

  private async restart(process: ServiceProcess, afterKill = true): Promise<void> {
    const wait = process.killedAt + GROUP_EVICTION_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const startedAt = Date.now();
    await process.start(this.settings.startTimeoutMs);
    if (this.clockNow) await moveClocks([process], this.clockNow);
    process.restarts += 1;
    if (afterKill) this.survived += 1;
    this.lastFaultAt = Date.now();
    this.note(`${process.name} back after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }

  private note(line: string): void {
    this.log.push(line);
    this.onLog(line);
  }
}
