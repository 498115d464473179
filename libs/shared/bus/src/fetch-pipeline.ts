import type { ChunkOutcome } from './consume-policy';
import type { ConsumedRecord } from './record-codec';

/** The next offset to read of a partition: one past the last record handled. */
export interface HandledOffset {
  partition: number;
  offset: bigint;
}

export interface FetchPipelineOptions {
  /** Handler calls running at once, each on a partition of its own, which it holds until it ends. */
  concurrency: number;
  /** Records per handler call, at most. */
  maxBatchSize: number;
  /** Records fetched and not yet handed to a call, per partition, before that partition's fetch waits. */
  maxQueuedPerPartition: number;
  /**
   * Handles consecutive records of one partition, in offset order.
   * `isCurrent` turns false once the pipeline was reset or closed: the call should stop, and
   * what it did not complete is fetched again.
   */
  handle(records: readonly ConsumedRecord[], isCurrent: () => boolean): Promise<ChunkOutcome>;
  /** Commits the group's offsets; rejects when it cannot (a rebalance), and is then only logged. */
  commit(offsets: readonly HandledOffset[]): Promise<void>;
  /** A commit that failed (its records are fetched again after a rebalance), or a call that threw. */
  onFailure(what: 'commit' | 'handle', error: unknown): void;
  /** How long a call that threw keeps its partitions before they are handled again (1 s). */
  pauseAfterThrowMs?: number;
}

interface Call {
  generation: number;
  partition: number;
  records: ConsumedRecord[];
}

/**
 * Between kafkajs's fetches and the handler. kafkajs fetches a broker's partitions again only
 * once every batch of its last fetch was handled, and librdkafka's mock answers a fetch with at
 * most one produced batch per partition: a handler call of 10 ms held each partition to one
 * producer's batch per call plus a fetch, however far behind it was (journeys: 2.6 milestones a
 * call, about 500/s with a backlog growing behind). Here a fetched batch is queued and the fetch
 * goes on. A partition is handled by one call at a time, in offset order; when its call ends, the
 * next takes everything queued for it meanwhile, so calls grow with the backlog and shrink back to
 * one batch when the stream is light.
 *
 * Offsets are committed only through what a call handled, by one committer that always sends the
 * latest (so they never move back). A rebalance resets the pipeline: what was queued is dropped,
 * because kafkajs fetches again from the committed offsets after it; records a running call
 * handles meanwhile are skipped when they arrive again.
 */
export class FetchPipeline {
  private generation = 0;
  private closed = false;
  /** Per partition, fetched records not yet in a call; the map keeps the order partitions queued in. */
  private readonly queued = new Map<number, ConsumedRecord[]>();
  private readonly held = new Set<number>();
  /** Per partition, the next offset to handle: what arrives below it was handled already. */
  private readonly handledTo = new Map<number, bigint>();
  private readonly running = new Set<Promise<void>>();
  private readonly roomWaiters: (() => void)[] = [];
  private readonly committer: OffsetCommitter;

  constructor(private readonly options: FetchPipelineOptions) {
    this.committer = new OffsetCommitter(options.commit, (error) => options.onFailure('commit', error));
  }

  /** Queues a fetched batch of one partition, in offset order, and starts a call if one may run. */
  offer(partition: number, records: readonly ConsumedRecord[]): void {
    if (this.closed) return;
    const from = this.handledTo.get(partition) ?? -1n;
    const fresh = records.filter((record) => BigInt(record.offset) >= from);
    // Fetched again from an older commit (this consumer's commit failed in a rebalance, and the
    // partition came back): the group's offset moves on to what was handled here, or it would
    // stay behind, and report lag, until the partition gets a record never handled.
    if (fresh.length < records.length) this.committer.add([{ partition, offset: from }]);
    if (fresh.length === 0) return;
    const queue = this.queued.get(partition);
    if (queue) queue.push(...fresh);
    else this.queued.set(partition, [...fresh]);
    this.dispatch();
  }

  /** Whether another fetched batch of the partition may be queued now. */
  hasRoom(partition: number): boolean {
    return this.closed || (this.queued.get(partition)?.length ?? 0) < this.options.maxQueuedPerPartition;
  }

  /** Resolves once the partition has room, or after `ms` (the caller heartbeats and asks again). */
  async waitForRoom(partition: number, ms: number): Promise<boolean> {
    if (this.hasRoom(partition)) return true;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // A waiter that timed out leaves the list: a fetch held for long would otherwise add one a second.
      const timer = setTimeout(() => {
        const index = this.roomWaiters.indexOf(wake);
        if (index >= 0) this.roomWaiters.splice(index, 1);
        resolve();
      }, ms);
      this.roomWaiters.push(wake);
    });
    return this.hasRoom(partition);
  }

  /** A rebalance or a new consumer: drops what was queued; the calls running finish and commit. */
  reset(): void {
    this.generation += 1;
    this.queued.clear();
    this.wakeRoomWaiters();
  }

  /** Stops taking batches, waits for the running calls and commits what they handled. */
  async close(): Promise<void> {
    this.closed = true;
    this.reset();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.committer.flushed();
  }

  private dispatch(): void {
    while (!this.closed && this.running.size < this.options.concurrency) {
      const call = this.take();
      if (!call) return;
      const run = this.run(call).finally(() => {
        this.running.delete(run);
        this.dispatch();
      });
      this.running.add(run);
    }
  }

  /**
   * Everything queued (up to maxBatchSize) for the partition that queued first of those no call
   * holds. One partition a call, as every bus hands its handlers: a batch never spans partitions.
   */
  private take(): Call | undefined {
    for (const [partition, queue] of this.queued) {
      if (this.held.has(partition)) continue;
      const from = this.handledTo.get(partition) ?? -1n;
      const fresh = queue.filter((record) => BigInt(record.offset) >= from);
      const records = fresh.slice(0, this.options.maxBatchSize);
      const rest = fresh.slice(this.options.maxBatchSize);
      // A partition left with records goes last, so a long backlog cannot starve the others.
      this.queued.delete(partition);
      if (rest.length > 0) this.queued.set(partition, rest);
      if (records.length === 0) continue;
      this.held.add(partition);
      this.wakeRoomWaiters();
      return { generation: this.generation, partition, records };
    }
    return undefined;
  }

  private async run(call: Call): Promise<void> {
    const isCurrent = (): boolean => !this.closed && call.generation === this.generation;
    let outcome: ChunkOutcome;
    try {
      outcome = await this.options.handle(call.records, isCurrent);
    } catch (error) {
      // The consume policy handles errors itself; a throw here is a defect, not a poison message.
      this.options.onFailure('handle', error);
      outcome = 'interrupted';
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseAfterThrowMs ?? 1000));
    }
    const { partition, records } = call;
    const last = records[records.length - 1];
    if (outcome === 'completed' && last) {
      // Records come in offset order, and a partition is in one call at a time: the last is the highest.
      const next = BigInt(last.offset) + 1n;
      this.handledTo.set(partition, next);
      this.committer.add([{ partition, offset: next }]);
    } else if (isCurrent()) {
      // Not handled, yet the partition is still ours: kafkajs will not fetch these again.
      this.queued.set(partition, [...records, ...(this.queued.get(partition) ?? [])]);
    }
    this.held.delete(partition);
  }

  private wakeRoomWaiters(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

/**
 * Commits handled offsets one request at a time, each with the latest offset of every partition
 * handled since the last: commits never overtake each other, so an offset never moves back, and
 * a call does not wait for its commit before its partitions take the next records.
 */
class OffsetCommitter {
  private readonly pending = new Map<number, bigint>();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly commit: (offsets: readonly HandledOffset[]) => Promise<void>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  add(offsets: readonly HandledOffset[]): void {
    for (const { partition, offset } of offsets) {
      if (offset > (this.pending.get(partition) ?? -1n)) this.pending.set(partition, offset);
    }
    this.kick();
  }

  async flushed(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private kick(): void {
    if (this.loop || this.pending.size === 0) return;
    this.loop = this.drain().finally(() => {
      this.loop = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const offsets = [...this.pending].map(([partition, offset]) => ({ partition, offset }));
      this.pending.clear();
      try {
        await this.commit(offsets);
      } catch (error) {
        this.onFailure(error);
      }
    }
  }
}
