import type { ChunkOutcome } from './consume-policy';
import { FetchPipeline, type FetchPipelineOptions, type HandledOffset } from './fetch-pipeline';
import type { ConsumedRecord } from './record-codec';

const record = (partition: number, offset: number): ConsumedRecord => ({
  topic: 't',
  partition,
  offset: String(offset),
  key: 'k',
  value: `p${partition}o${offset}`,
  headers: {},
  timestamp: '0',
});
const batch = (partition: number, from: number, count: number): ConsumedRecord[] =>
  Array.from({ length: count }, (_, i) => record(partition, from + i));
/** A call's records as `partition:offset`, in the order the handler got them. */
const names = (records: readonly ConsumedRecord[]): string[] =>
  records.map((r) => `${r.partition}:${r.offset}`);

interface PendingCall {
  records: readonly ConsumedRecord[];
  isCurrent: () => boolean;
  finish(outcome?: ChunkOutcome): void;
  fail(error: Error): void;
}

/** A pipeline whose handler calls and commits the test ends one by one. */
function harness(options: Partial<FetchPipelineOptions> = {}) {
  const calls: PendingCall[] = [];
  const commits: HandledOffset[][] = [];
  const failures: string[] = [];
  let commitGate: Promise<void> = Promise.resolve();
  const pipeline = new FetchPipeline({
    concurrency: 2,
    maxBatchSize: 100,
    maxQueuedPerPartition: 10,
    pauseAfterThrowMs: 0,
    handle: (records, isCurrent) =>
      new Promise<ChunkOutcome>((resolve, reject) => {
        calls.push({ records, isCurrent, finish: (outcome = 'completed') => resolve(outcome), fail: reject });
      }),
    commit: async (offsets) => {
      await commitGate;
      commits.push([...offsets].sort((a, b) => a.partition - b.partition));
    },
    onFailure: (what, error) => failures.push(`${what}: ${String(error)}`),
    ...options,
  });
  return {
    pipeline,
    calls,
    commits,
    failures,
    /** Commits wait until the returned function is called. */
    holdCommits(): () => void {
      let open!: () => void;
      commitGate = new Promise((resolve) => (open = resolve));
      return () => open();
    },
  };
}

/** Lets the pipeline's promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FetchPipeline', () => {
  it('handles a partition one call at a time, and hands the next call everything queued meanwhile, in offset order', async () => {
    const { pipeline, calls, commits } = harness();
    pipeline.offer(0, batch(0, 0, 2));
    pipeline.offer(0, batch(0, 2, 3));
    pipeline.offer(0, batch(0, 5, 1));

    expect(calls.map((c) => names(c.records))).toEqual([['0:0', '0:1']]);
    calls[0]?.finish();
    await settle();

    expect(calls.map((c) => names(c.records))).toEqual([
      ['0:0', '0:1'],
      ['0:2', '0:3', '0:4', '0:5'],
    ]);
    calls[1]?.finish();
    await settle();
    expect(
      commits
        .flat()
        .filter((c) => c.partition === 0)
        .map((c) => c.offset),
    ).toEqual([2n, 6n]);
  });

  it('runs calls on different partitions side by side, up to the concurrency, one partition a call, oldest queued first', async () => {
    const { pipeline, calls } = harness({ concurrency: 2 });
    pipeline.offer(0, batch(0, 0, 1));
    pipeline.offer(1, batch(1, 0, 1));
    pipeline.offer(2, batch(2, 0, 1));
    pipeline.offer(3, batch(3, 0, 2));
    pipeline.offer(0, batch(0, 1, 1));

    expect(calls.map((c) => names(c.records))).toEqual([['0:0'], ['1:0']]);
    calls[0]?.finish();
    await settle();
    expect(calls.map((c) => names(c.records)).slice(2)).toEqual([['2:0']]);
    calls[1]?.finish();
    calls[2]?.finish();
    await settle();
    expect(calls.map((c) => names(c.records)).slice(3)).toEqual([['3:0', '3:1'], ['0:1']]);
  });

  it('puts at most maxBatchSize records in a call and sends a partition left with records to the back', async () => {
    const { pipeline, calls } = harness({ maxBatchSize: 3, concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 1));
    pipeline.offer(0, batch(0, 1, 4));
    pipeline.offer(1, batch(1, 0, 2));
    calls[0]?.finish();
    await settle();
    expect(names(calls[1]?.records ?? [])).toEqual(['0:1', '0:2', '0:3']);
    calls[1]?.finish();
    await settle();
    expect(names(calls[2]?.records ?? [])).toEqual(['1:0', '1:1']);
    calls[2]?.finish();
    await settle();
    expect(names(calls[3]?.records ?? [])).toEqual(['0:4']);
  });

  it('commits one request at a time, each with the latest handled offset of every partition, never moving back', async () => {
    const { pipeline, calls, commits, holdCommits } = harness({ concurrency: 2 });
    const release = holdCommits();
    pipeline.offer(0, batch(0, 0, 2));
    pipeline.offer(1, batch(1, 0, 1));
    calls[0]?.finish();
    await settle();
    // The first commit (partition 0 through offset 1) is with the broker; these two wait for it.
    calls[1]?.finish();
    pipeline.offer(0, batch(0, 2, 3));
    await settle();
    calls[2]?.finish();
    await settle();
    expect(commits).toEqual([]);

    release();
    await settle();
    await settle();
    expect(commits).toEqual([
      [{ partition: 0, offset: 2n }],
      [
        { partition: 0, offset: 5n },
        { partition: 1, offset: 1n },
      ],
    ]);
  });

  it('after a reset drops what was queued, and skips records a running call handled when they are fetched again', async () => {
    const { pipeline, calls, commits } = harness({ concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 3));
    pipeline.offer(0, batch(0, 3, 2));
    // A rebalance: kafkajs fetches again from the last commit (nothing yet), while the call runs on.
    pipeline.reset();
    expect(calls[0]?.isCurrent()).toBe(false);
    pipeline.offer(0, batch(0, 0, 5));
    calls[0]?.finish('completed');
    await settle();

    expect(names(calls[1]?.records ?? [])).toEqual(['0:3', '0:4']);
    calls[1]?.finish();
    await settle();
    expect(commits.flat().map((c) => c.offset)).toEqual([3n, 5n]);
  });

  it('commits what it handled when a partition comes back from an older commit with nothing new', async () => {
    const { pipeline, calls, commits, failures } = harness({
      concurrency: 1,
      commit: async (offsets) => {
        // The first commit is refused (a rebalance), so the group's offset stays at 0.
        if (failures.length === 0) throw new Error('REBALANCE_IN_PROGRESS');
        commits.push([...offsets]);
      },
    });
    pipeline.offer(0, batch(0, 0, 3));
    calls[0]?.finish();
    await settle();
    expect(commits).toEqual([]);

    // The partition is ours again after a rebalance: kafkajs fetches it from offset 0.
    pipeline.reset();
    pipeline.offer(0, batch(0, 0, 3));
    await settle();
    expect(calls).toHaveLength(1);
    expect(commits).toEqual([[{ partition: 0, offset: 3n }]]);
  });

  it('queues again, first, the records of a call interrupted while its partitions were still held', async () => {
    const { pipeline, calls, commits } = harness({ concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 2));
    pipeline.offer(0, batch(0, 2, 1));
    calls[0]?.finish('interrupted');
    await settle();
    expect(names(calls[1]?.records ?? [])).toEqual(['0:0', '0:1', '0:2']);
    expect(commits).toEqual([]);
  });

  it('drops, uncommitted, the records of a call interrupted by a reset: they are fetched again', async () => {
    const { pipeline, calls, commits } = harness({ concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 2));
    pipeline.reset();
    calls[0]?.finish('interrupted');
    await settle();
    expect(calls).toHaveLength(1);
    expect(commits).toEqual([]);
    pipeline.offer(0, batch(0, 0, 2));
    expect(names(calls[1]?.records ?? [])).toEqual(['0:0', '0:1']);
  });

  it('says when a partition has as much queued as it may hold, and wakes the fetch waiting for room', async () => {
    const { pipeline, calls } = harness({ concurrency: 1, maxQueuedPerPartition: 3 });
    pipeline.offer(0, batch(0, 0, 1));
    pipeline.offer(0, batch(0, 1, 3));
    expect(pipeline.hasRoom(0)).toBe(false);
    expect(pipeline.hasRoom(1)).toBe(true);
    await expect(pipeline.waitForRoom(0, 1)).resolves.toBe(false);

    const waiting = pipeline.waitForRoom(0, 60_000);
    calls[0]?.finish();
    await expect(waiting).resolves.toBe(true);
    expect(names(calls[1]?.records ?? [])).toEqual(['0:1', '0:2', '0:3']);
  });

  it('on close waits for the running calls and their commits, and takes no more batches', async () => {
    const { pipeline, calls, commits } = harness({ concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 2));
    pipeline.offer(0, batch(0, 2, 2));
    let closed = false;
    const closing = pipeline.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    expect(calls[0]?.isCurrent()).toBe(false);

    calls[0]?.finish();
    await closing;
    expect(commits).toEqual([[{ partition: 0, offset: 2n }]]);
    pipeline.offer(0, batch(0, 4, 1));
    expect(calls).toHaveLength(1);
  });

  it('reports a commit the broker refused, and commits the next handled offsets all the same', async () => {
    let refuse = true;
    const committed: HandledOffset[][] = [];
    const { pipeline, calls, failures } = harness({
      concurrency: 1,
      commit: async (offsets) => {
        if (refuse) {
          refuse = false;
          throw new Error('REBALANCE_IN_PROGRESS');
        }
        committed.push([...offsets]);
      },
    });
    pipeline.offer(0, batch(0, 0, 1));
    calls[0]?.finish();
    await settle();
    pipeline.offer(0, batch(0, 1, 1));
    calls[1]?.finish();
    await settle();
    expect(failures).toEqual(['commit: Error: REBALANCE_IN_PROGRESS']);
    expect(committed).toEqual([[{ partition: 0, offset: 2n }]]);
  });

  it('reports a handler call that threw and hands its records to the next call again', async () => {
    const { pipeline, calls, failures, commits } = harness({ concurrency: 1 });
    pipeline.offer(0, batch(0, 0, 2));
    calls[0]?.fail(new Error('defect'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(failures).toEqual(['handle: Error: defect']);
    expect(names(calls[1]?.records ?? [])).toEqual(['0:0', '0:1']);
    calls[1]?.finish();
    await settle();
    expect(commits).toEqual([[{ partition: 0, offset: 2n }]]);
  });
});
