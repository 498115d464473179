import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topic } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { openServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Logger } from '@nestjs/common';
import { Client, type Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { addConsumerLagSource, busMetrics, type BusMetrics } from './bus-metrics';
import { partitionConsumerOf, processChunk, type ConsumerContext } from './consume-policy';
import { partitionOf } from './in-memory-bus';
import type {
  ConsumerLag,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RawOutgoingRecord,
  RetryPolicy,
  Subscription,
} from './message-bus';
import { busMigrations } from './migrations';
import { publishValidated } from './publish-policy';
import { RecentRecords } from './recent-records';
import { asTextRecord, decodeAll, type ConsumedRecord, type DeadLetter } from './record-codec';
import { resolveRetryPolicy } from './retry-policy';
import { DEFAULT_MAX_BATCH_SIZE, subscriptionKey, validateSubscription } from './subscription';

/** How long records are kept: whichever limit a record reaches first removes it, consumed or not (as on Kafka). */
export interface BusRetention {
  /** Records older than this are deleted. 7 days unless told, Kafka's default. */
  maxAgeMs: number;
  /** Per partition, only the newest this many records are kept. 250,000 unless told. */
  maxRecordsPerPartition: number;
  /** How often the limits are applied. 60 s unless told. */
  sweepIntervalMs: number;
}

export const DEFAULT_BUS_RETENTION: BusRetention = {
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxRecordsPerPartition: 250_000,
  sweepIntervalMs: 60_000,
};

export interface PostgresBusOptions {
  /** The database the records live in, in schema `bus` (created and migrated on first use). */
  url: string;
  /**
   * Partitions per topic (4 unless told). A key's partition follows from it, so changing this on
   * a database that holds unconsumed records breaks per-key order for them.
   */
  partitions?: number;
  retry?: Partial<RetryPolicy>;
  retention?: Partial<BusRetention>;
  /**
   * Wake-ups come by LISTEN/NOTIFY; this slow poll only covers notifications missed while the
   * listening connection was down (and re-establishes it). 2 s unless told.
   */
  pollIntervalMs?: number;
  /** Connections of the bus's own pool. 6 unless told. */
  poolSize?: number;
}

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

const SCHEMA = 'bus';
/** Enough for a full window of the benchmark's backlog; beyond it consumers read from the database. */
const RECENT_RECORDS_PER_PARTITION = 5000;
const CHANNEL = 'mmp_bus';

/**
 * One statement per publish call, so it is all or nothing: reserve each partition's offsets on
 * its `partitions` row (locked in partition order, so concurrent publishers cannot deadlock and
 * commit a partition's offsets in order), append the records, and notify listeners at commit.
 * Returns each partition's first new offset.
 */
const APPEND_SQL = `
  WITH input AS (
    SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $5::json[])
      WITH ORDINALITY AS m(partition, key, value, headers, ord)
  ), counts AS (
    SELECT partition, count(*)::bigint AS n FROM input GROUP BY partition ORDER BY partition
  ), reserved AS (
    INSERT INTO partitions AS p (topic, partition, next_offset)
    SELECT $1, partition, n FROM counts
    ON CONFLICT (topic, partition) DO UPDATE SET next_offset = p.next_offset + EXCLUDED.next_offset
    RETURNING p.partition, p.next_offset AS end_offset
  ), appended AS (
    INSERT INTO records (topic, partition, "offset", key, value, headers)
    SELECT $1, i.partition,
           r.end_offset - c.n + row_number() OVER (PARTITION BY i.partition ORDER BY i.ord) - 1,
           i.key, i.value, i.headers
    FROM input i JOIN reserved r USING (partition) JOIN counts c USING (partition)
  )
  SELECT r.partition, (r.end_offset - c.n)::text AS first_offset
  FROM reserved r JOIN counts c USING (partition)
  CROSS JOIN (SELECT pg_notify('${CHANNEL}', json_build_object('topic', $1::text, 'source', $6::text,
              'partitions', (SELECT array_agg(partition) FROM counts))::text)) AS notified`;

const FETCH_SQL = `
  SELECT "offset"::text AS "offset", key, value, headers,
         (extract(epoch FROM produced_at) * 1000)::bigint::text AS "timestamp"
  FROM records
  WHERE topic = $1 AND partition = $2 AND "offset" >= $3
  ORDER BY records."offset" -- the column: the select list's "offset" is text
  LIMIT $4`;

/** A whole (small) topic, every partition, for MessageBus.readAll. */
const READ_ALL_SQL = `
  SELECT partition, "offset"::text AS "offset", key, value, headers,
         (extract(epoch FROM produced_at) * 1000)::bigint::text AS "timestamp"
  FROM records
  WHERE topic = $1
  ORDER BY partition, records."offset"`;

/** Every offset handled since the last write, of all groups, in one statement. */
const COMMIT_SQL = `
  INSERT INTO group_offsets (group_id, topic, partition, next_offset)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])
  ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`;

/**
 * How long handled offsets wait to be written, gathered from every group: one statement (and one
 * fsync) for all instead of one per batch and group. Only offsets already handled wait, so a
 * crash meanwhile costs a redelivery of at most this much work, never a loss.
 */
const COMMIT_INTERVAL_MS = 50;

interface PendingCommit {
  groupId: string;
  topic: string;
  partition: number;
  nextOffset: number;
}

interface FetchedRow {
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
}

/**
 * The in-process bus of the embedded single-machine mode (`npm start` without KAFKA_BROKERS),
 * durable on the platform's own Postgres: records are appended per topic and partition (by key,
 * as on Kafka, so per-customer order holds), each consumer group commits its offsets after the
 * handler succeeded, and a process killed at any point resumes from its commits, so delivery is
 * at least once across crashes. Consumers are woken by LISTEN/NOTIFY, and read what this
 * process itself just appended from memory (RecentRecords), the rest from the table. Past one
 * machine the platform runs on Kafka: this adapter deliberately has no consumer-group
 * membership, so two processes consuming the same group each get every record.
 */
export class PostgresBus implements MessageBus {
  private readonly partitionCount: number;
  private readonly retry: RetryPolicy;
  private readonly retention: BusRetention;
  private readonly pollIntervalMs: number;
  private readonly metrics: BusMetrics = busMetrics();
  private readonly logger = new Logger('PostgresBus');
  /** Tells this bus's own notifications apart: it wakes its consumers at once, without the round trip. */
  private readonly instanceId = randomUUID();
  private readonly groups: GroupHandle[] = [];
  private readonly recent = new RecentRecords(RECENT_RECORDS_PER_PARTITION);
  private readonly pendingCommits = new Map<string, PendingCommit>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private state: State = 'created';
  private abort = new AbortController();
  private database: Promise<DataSource> | undefined;
  private listener: Client | undefined;
  private listening: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private removeLagSource: (() => void) | undefined;
  private readonly host: GroupHost = {
    context: () => this.consumerContext(),
    fetch: (topicName, partition, from, limit) => this.fetch(topicName, partition, from, limit),
    commit: (groupId, topicName, partition, nextOffset) =>
      this.commit(groupId, topicName, partition, nextOffset),
    sendDeadLetters: (dlqTopic, letters) => this.append(dlqTopic, letters.map(deadLetterRecord)),
  };

  constructor(private readonly options: PostgresBusOptions) {
    this.partitionCount = options.partitions ?? 4;
    if (!Number.isInteger(this.partitionCount) || this.partitionCount < 1) {
      throw new Error(`partitions must be a positive integer, got ${this.partitionCount}`);
    }
    this.retry = resolveRetryPolicy(options.retry);
    this.retention = { ...DEFAULT_BUS_RETENTION, ...options.retention };
    for (const [name, value] of Object.entries(this.retention)) {
      if (!(Number.isFinite(value) && value > 0))
        throw new Error(`retention.${name} must be a positive number, got ${value}`);
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
  }

  async publish<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): Promise<void> {
    this.assertAcceptingMessages();
    await publishValidated(topic, messages, this.metrics, (records) => this.append(topic.name, records));
  }

  async publishRaw(topicName: string, records: readonly RawOutgoingRecord[]): Promise<void> {
    this.assertAcceptingMessages();
    if (records.length === 0) return;
    await this.append(topicName, records.map(asTextRecord));
    this.metrics.published.inc({ topic: topicName }, records.length);
  }

  subscribe<T>(subscription: Subscription<T>): void {
    if (this.state !== 'created' && this.state !== 'stopped') {
      throw new Error(`subscribe ${subscriptionKey(subscription)} before start()`);
    }
    validateSubscription(subscription, this.groups);
    this.groups.push(new PostgresGroup(subscription, this.partitionCount, this.host));
  }

  async readAll<T>(topic: Topic<T>): Promise<IncomingMessage<T>[]> {
    const rows = await queryRows<FetchedRow & { partition: number }>(await this.db(), READ_ALL_SQL, [
      topic.name,
    ]);
    return decodeAll(
      topic,
      rows.map((row) => ({ topic: topic.name, ...row })),
      this.logger,
    );
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'starting') return this.starting;
    if (this.state === 'stopping') await this.stopping;
    this.state = 'starting';
    this.abort = new AbortController();
    this.stopping = undefined;
    this.starting = (async () => {
      try {
        const db = await this.db();
        // Listening before the offsets are read: a record published meanwhile is not missed.
        await this.listen();
        const committed = await queryRows<{
          group_id: string;
          topic: string;
          partition: number;
          next_offset: string;
        }>(
          db,
          `SELECT group_id, topic, partition, next_offset::text AS next_offset FROM group_offsets WHERE topic = ANY($1)`,
          [this.groups.map((group) => group.topicName)],
        );
        for (const group of this.groups) {
          group.resume(
            committed.filter((row) => row.group_id === group.groupId && row.topic === group.topicName),
          );
        }
        this.state = 'running';
        this.removeLagSource ??= addConsumerLagSource(this);
        this.timers = [
          setInterval(() => void this.poll(), this.pollIntervalMs).unref(),
          setInterval(() => void this.sweep(), this.retention.sweepIntervalMs).unref(),
        ];
        // Whatever was published while no consumer ran.
        await this.poll();
      } catch (error) {
        await this.disconnect();
        this.state = 'stopped';
        throw AppError.unavailable(`cannot start the Postgres bus: ${describeError(error)}`);
      }
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.state === 'created' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'starting') await this.starting?.catch(() => undefined);
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.removeLagSource?.();
      this.removeLagSource = undefined;
      this.abort.abort();
      await Promise.all(this.groups.map((group) => group.drain()));
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
      await this.writeCommits();
      await this.disconnect();
      this.state = 'stopped';
    })();
    await this.stopping;
  }

  async isReady(): Promise<boolean> {
    if (this.state !== 'running') return false;
    try {
      await runSql(await this.db(), 'SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Applies the retention limits now (the bus also does so every `retention.sweepIntervalMs`). */
  async applyRetention(): Promise<number> {
    const db = await this.db();
    const expired = await runSql(
      db,
      `DELETE FROM records WHERE produced_at < now() - $1::float8 * interval '1 millisecond'`,
      [this.retention.maxAgeMs],
    );
    const beyondSize = await runSql(
      db,
      `DELETE FROM records r USING partitions p
       WHERE r.topic = p.topic AND r.partition = p.partition AND r."offset" < p.next_offset - $1`,
      [this.retention.maxRecordsPerPartition],
    );
    return expired.rowCount + beyondSize.rowCount;
  }

  /** Opened on first use, so a service may publish before the bus starts consuming. */
  private db(): Promise<DataSource> {
    this.database ??= openServiceDatabase({
      schema: SCHEMA,
      migrations: busMigrations,
      url: this.options.url,
      poolSize: this.options.poolSize ?? 6,
      applicationName: 'mmp-bus',
    }).catch((error: unknown) => {
      this.database = undefined;
      throw error;
    });
    return this.database;
  }

  private async append(
    topicName: string,
    records: readonly { key: string; value: string; headers?: Record<string, string> }[],
  ): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw AppError.unavailable('the message bus is stopped');
    const partitions = records.map((record) => partitionOf(record.key, this.partitionCount));
    const firstOffsets = await queryRows<{ partition: number; first_offset: string }>(
      await this.db(),
      APPEND_SQL,
      [
        topicName,
        partitions,
        records.map((record) => record.key),
        records.map((record) => record.value),
        records.map((record) => JSON.stringify(record.headers ?? {})),
        this.instanceId,
      ],
    );
    if (this.groups.some((group) => group.topicName === topicName)) {
      // The offsets as APPEND_SQL numbered them: in call order within each partition.
      const next = new Map(firstOffsets.map((row) => [row.partition, Number(row.first_offset)]));
      const timestamp = String(Date.now());
      this.recent.add(
        records.map((record, index) => {
          const partition = partitions[index] ?? 0;
          const offset = next.get(partition) ?? 0;
          next.set(partition, offset + 1);
          return {
            topic: topicName,
            partition,
            offset: String(offset),
            key: record.key,
            value: record.value,
            headers: { ...record.headers },
            timestamp,
          };
        }),
      );
    }
    this.wake(topicName, new Set(partitions));
  }

  private async fetch(
    topicName: string,
    partition: number,
    from: number,
    limit: number,
  ): Promise<ConsumedRecord[]> {
    const recent = this.recent.read(topicName, partition, from, limit);
    if (recent.length > 0) return recent;
    const rows = await queryRows<FetchedRow>(await this.db(), FETCH_SQL, [topicName, partition, from, limit]);
    return rows.map((row) => ({ topic: topicName, partition, ...row }));
  }

  /** Records a handled offset; it is written within COMMIT_INTERVAL_MS, with every other one. */
  private commit(groupId: string, topicName: string, partition: number, nextOffset: number): void {
    this.pendingCommits.set(`${groupId}\u0000${topicName}\u0000${partition}`, {
      groupId,
      topic: topicName,
      partition,
      nextOffset,
    });
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined;
      void this.writeCommits();
    }, COMMIT_INTERVAL_MS);
    const consumedHere = this.groups
      .filter((group) => group.topicName === topicName)
      .reduce(
        (end, group) =>
          Math.min(end, group.groupId === groupId ? nextOffset : group.committedOffset(partition)),
        nextOffset,
      );
    this.recent.trim(topicName, partition, consumedHere);
  }

  /** Writes the pending offsets, one write at a time so that a newer offset never loses to an older one. */
  private writeCommits(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const batch = [...this.pendingCommits.entries()];
      if (batch.length === 0) return;
      this.pendingCommits.clear();
      const commits = batch.map(([, commit]) => commit);
      try {
        await runSql(await this.db(), COMMIT_SQL, [
          commits.map((commit) => commit.groupId),
          commits.map((commit) => commit.topic),
          commits.map((commit) => commit.partition),
          commits.map((commit) => commit.nextOffset),
        ]);
      } catch (error) {
        // Kept for the next write unless a newer offset of the same partition is pending already.
        for (const [key, commit] of batch)
          if (!this.pendingCommits.has(key)) this.pendingCommits.set(key, commit);
        if (this.state === 'running') {
          this.logger.warn(`cannot commit offsets, retrying: ${describeError(error)}`);
          this.commitTimer ??= setTimeout(() => {
            this.commitTimer = undefined;
            void this.writeCommits();
          }, this.retry.maxBackoffMs);
        } else {
          this.logger.warn(`stopped with uncommitted offsets, to be redelivered: ${describeError(error)}`);
        }
      }
    });
    return this.committing;
  }

  private consumerContext(): ConsumerContext {
    const signal = this.abort.signal;
    return {
      retry: this.retry,
      metrics: this.metrics,
      logger: this.logger,
      signal,
      running: () => !signal.aborted && this.state === 'running',
    };
  }

  private wake(topicName: string, partitions: Iterable<number>): void {
    if (this.state !== 'running') return;
    const list = [...partitions];
    for (const group of this.groups) if (group.topicName === topicName) group.wake(list);
  }

  private async listen(): Promise<void> {
    this.listening ??= (async () => {
      const client = new Client({ connectionString: this.options.url, application_name: 'mmp-bus-listener' });
      client.on('notification', (notification) => this.onNotification(notification));
      client.on('error', (error) => {
        // The poll notices the missing listener, reconnects and catches up meanwhile.
        this.logger.warn(`the listening connection failed: ${describeError(error)}`);
        if (this.listener === client) this.listener = undefined;
        void client.end().catch(() => undefined);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
        this.listener = client;
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    })().finally(() => {
      this.listening = undefined;
    });
    await this.listening;
  }

  /** One query for the end of every subscribed partition; the groups' offsets are this process's own. */
  async consumerLag(): Promise<ConsumerLag[]> {
    if (this.state !== 'running') return [];
    const ends = await queryRows<{ topic: string; partition: number; next_offset: string }>(
      await this.db(),
      `SELECT topic, partition, next_offset::text AS next_offset FROM partitions WHERE topic = ANY($1)`,
      [[...new Set(this.groups.map((group) => group.topicName))]],
    );
    return this.groups.flatMap((group) =>
      ends
        .filter((end) => end.topic === group.topicName)
        .map((end) => ({
          topic: group.topicName,
          partition: end.partition,
          group: group.groupId,
          lag: Math.max(0, Number(end.next_offset) - group.committedOffset(end.partition)),
        })),
    );
  }

  private onNotification(notification: Notification): void {
    if (notification.channel !== CHANNEL || !notification.payload) return;
    const notice = AppendNotice.safeParse(JSON.parse(notification.payload));
    if (!notice.success || notice.data.source === this.instanceId) return;
    this.wake(notice.data.topic, notice.data.partitions);
  }

  /**
   * The fallback: one query for the end of every subscribed partition, waking the groups that
   * are behind. Also re-establishes a lost listening connection.
   */
  private async poll(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      if (!this.listener) await this.listen();
      const ends = await queryRows<{ topic: string; partition: number; next_offset: string }>(
        await this.db(),
        `SELECT topic, partition, next_offset::text AS next_offset FROM partitions WHERE topic = ANY($1)`,
        [this.groups.map((group) => group.topicName)],
      );
      for (const group of this.groups) {
        const behind = ends
          .filter(
            (end) =>
              end.topic === group.topicName && group.committedOffset(end.partition) < Number(end.next_offset),
          )
          .map((end) => end.partition);
        if (behind.length > 0 && this.state === 'running') group.wake(behind);
      }
    } catch (error) {
      this.logger.warn(`poll failed, retrying in ${this.pollIntervalMs} ms: ${describeError(error)}`);
    }
  }

  private async sweep(): Promise<void> {
    try {
      const removed = await this.applyRetention();
      if (removed > 0) this.logger.debug(`retention removed ${removed} records`);
    } catch (error) {
      this.logger.warn(`retention sweep failed: ${describeError(error)}`);
    }
  }

  private async disconnect(): Promise<void> {
    this.recent.clear();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    const database = this.database;
    this.database = undefined;
    await database
      ?.then((db) => db.destroy())
      .catch((error: unknown) => this.logger.warn(`closing the bus's database: ${describeError(error)}`));
  }

  private assertAcceptingMessages(): void {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw AppError.unavailable('the message bus is stopped');
  }
}

interface GroupHost {
  context(): ConsumerContext;
  fetch(topicName: string, partition: number, from: number, limit: number): Promise<ConsumedRecord[]>;
  commit(groupId: string, topicName: string, partition: number, nextOffset: number): void;
  sendDeadLetters(dlqTopic: string, letters: readonly DeadLetter[]): Promise<void>;
}

interface GroupHandle {
  readonly topicName: string;
  readonly groupId: string;
  resume(rows: readonly { partition: number; next_offset: string }[]): void;
  committedOffset(partition: number): number;
  wake(partitions: readonly number[]): void;
  drain(): Promise<void>;
}

/** One subscription: a consumer group's offsets on one topic and a worker per busy partition. */
class PostgresGroup<T> implements GroupHandle {
  readonly topicName: string;
  readonly groupId: string;
  private readonly committed: number[] = [];
  /** Partitions with a worker; kept synchronously, so a wake-up either reaches a worker or starts one. */
  private readonly active = new Set<number>();
  /** Partitions woken while their worker was reading: it reads once more before it ends. */
  private readonly woken = new Set<number>();
  private readonly workers = new Set<Promise<void>>();

  constructor(
    private readonly subscription: Subscription<T>,
    private readonly partitionCount: number,
    private readonly bus: GroupHost,
  ) {
    this.topicName = subscription.topic.name;
    this.groupId = subscription.groupId;
  }

  /** The committed offsets, as a (re)start reads them; a group without commits starts at the earliest record. */
  resume(rows: readonly { partition: number; next_offset: string }[]): void {
    this.committed.length = 0;
    for (const row of rows) this.committed[row.partition] = Number(row.next_offset);
  }

  committedOffset(partition: number): number {
    return this.committed[partition] ?? 0;
  }

  wake(partitions: readonly number[]): void {
    for (const partition of partitions) {
      if (partition < 0 || partition >= this.partitionCount) continue;
      if (this.active.has(partition)) {
        this.woken.add(partition);
        continue;
      }
      this.active.add(partition);
      const worker = this.consume(partition);
      this.workers.add(worker);
      void worker.finally(() => this.workers.delete(worker));
    }
  }

  async drain(): Promise<void> {
    await Promise.all(this.workers);
  }

  private async consume(partition: number): Promise<void> {
    const context = this.bus.context();
    const { retry, logger, signal, running } = context;
    const consumer = partitionConsumerOf(this.subscription, context, running, (letters) =>
      this.bus.sendDeadLetters(this.subscription.topic.dlq, letters),
    );
    const maxBatchSize = this.subscription.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    try {
      while (running()) {
        this.woken.delete(partition);
        try {
          const chunk = await this.bus.fetch(
            this.topicName,
            partition,
            this.committedOffset(partition),
            maxBatchSize,
          );
          const last = chunk[chunk.length - 1];
          if (!last) {
            // Checked and ended in one synchronous step (with the finally below): a wake-up
            // arriving after this either found `woken` or finds no worker and starts one.
            if (this.woken.has(partition)) continue;
            return;
          }
          if ((await processChunk(chunk, consumer)) === 'interrupted') return;
          const next = Number(last.offset) + 1;
          this.committed[partition] = next;
          this.bus.commit(this.groupId, this.topicName, partition, next);
        } catch (error) {
          // Not a handler failure (the policy handles those) but the database: start over from
          // the last commit after a pause, as a crashed Kafka consumer would.
          logger.error(
            `${subscriptionKey(this.subscription)} partition ${partition}: ${describeError(error)}`,
          );
          await sleep(retry.maxBackoffMs, undefined, { signal }).catch(() => undefined);
        }
      }
    } finally {
      this.active.delete(partition);
    }
  }
}

/** What APPEND_SQL notifies: the topic, the partitions that grew, and which bus appended. */
const AppendNotice = z.object({
  topic: z.string(),
  source: z.string(),
  partitions: z.array(z.number().int()),
});

/** Dead letters keep the original bytes; this bus stores text, as the in-memory one does. */
function deadLetterRecord(letter: DeadLetter): {
  key: string;
  value: string;
  headers: Record<string, string>;
} {
  return {
    key: letter.key,
    value: letter.value === null ? '' : letter.value.toString(),
    headers: letter.headers,
  };
}
