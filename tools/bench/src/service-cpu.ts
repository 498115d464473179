import { readFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector/promises';
import { Client } from 'pg';
import { statTicks } from './cpu';

/**
 * Where the main thread's time goes when several services share it: a V8 CPU profile of the
 * stretch, each sample billed to the service whose code is nearest the top of its stack, or,
 * when no service code is on the stack (a socket's data being parsed, a timer of the bus), to
 * the shared code at its top: the Kafka client, the Postgres client, the bus, the runtime.
 */
export const SERVICE_SOURCES: readonly [RegExp, string][] = [
  [/\/libs\/ingestion\//, 'ingestion'],
  [/\/libs\/milestones\//, 'milestones'],
  [/\/libs\/journeys\//, 'journeys'],
  [/\/libs\/(delivery|channels)\//, 'delivery'],
  [/\/libs\/consent\//, 'consent'],
  [/\/libs\/analytics\//, 'analytics'],
];

/** Shared code, by the URL of the frame at the top of a stack without service code. */
const SHARED_SOURCES: readonly [RegExp, string][] = [
  [/\/node_modules\/kafkajs\//, 'shared: kafkajs'],
  [/\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-\w+)\//, 'shared: pg client'],
  [/\/node_modules\/typeorm\//, 'shared: typeorm'],
  [/\/node_modules\/zod\//, 'shared: zod'],
  [/\/node_modules\/@nestjs\//, 'shared: nest'],
  [/\/node_modules\/@opentelemetry\//, 'shared: opentelemetry'],
  [/\/libs\/shared\/bus\//, 'shared: bus'],
  [/\/libs\/shared\//, 'shared: other libs'],
  [/\/node_modules\//, 'shared: other packages'],
  [/^node:/, 'shared: node runtime (JS)'],
];

/** V8's own pseudo-frames: idle time is not CPU and is left out. */
const IDLE = '(idle)';

/** Milliseconds of main-thread samples by service or shared bucket. */
export function attributeProfile(profile: Profiler.Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const bucketOfNode = new Map<number, string | undefined>();
  const bucketOf = (id: number): string | undefined => {
    if (bucketOfNode.has(id)) return bucketOfNode.get(id);
    const node = byId.get(id);
    const functionName = node?.callFrame.functionName ?? '';
    const bucket =
      functionName === IDLE
        ? undefined
        : (serviceAbove(id) ??
          sharedAbove(id) ??
          (functionName.startsWith('(') ? `runtime: ${functionName}` : 'shared: other'));
    bucketOfNode.set(id, bucket);
    return bucket;
  };
  /** The first of `sources` matching a frame's URL, from this frame up to the root. */
  const nearestAbove = (sources: readonly [RegExp, string][]) => {
    const found = new Map<number, string | undefined>();
    const above = (id: number): string | undefined => {
      if (found.has(id)) return found.get(id);
      const url = byId.get(id)?.callFrame.url ?? '';
      const parent = parentOf.get(id);
      const bucket =
        sources.find(([pattern]) => pattern.test(url))?.[1] ??
        (parent === undefined ? undefined : above(parent));
      found.set(id, bucket);
      return bucket;
    };
    return above;
  };
  const serviceAbove = nearestAbove(SERVICE_SOURCES);
  // A builtin (JSON.parse, a RegExp) has no URL: it belongs to the shared code that called it.
  const sharedAbove = nearestAbove(SHARED_SOURCES);

  const ms = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    // A sample's time is the gap to the next one (the last gets the previous gap).
    const us = deltas[index + 1] ?? deltas[index] ?? 0;
    const bucket = bucketOf(id);
    if (bucket !== undefined) ms.set(bucket, (ms.get(bucket) ?? 0) + us / 1000);
  });
  return ms;
}

/** Profiles this thread from now until the returned function is called. */
export async function startMainThreadProfile(): Promise<() => Promise<Profiler.Profile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

/** How often the Postgres backends are read: a pool may close an idle backend in between. */
const POSTGRES_SAMPLE_MS = 500;

/**
 * CPU milliseconds of the Postgres backends serving the database from now until the returned
 * function is called, by application name (each service's pool names itself `mmp-<schema>`),
 * read from /proc every half second: a backend a pool closes meanwhile keeps what it was seen
 * to spend; one that starts meanwhile counts from zero.
 */
export async function startPostgresCpuSampler(url: string): Promise<() => Promise<Map<string, number>>> {
  const client = new Client({ connectionString: url, application_name: 'bench-probe' });
  await client.connect();
  const backends = new Map<number, { name: string; first: number; last: number }>();
  let started = false;
  const sample = async (): Promise<void> => {
    const { rows } = await client.query<{ pid: number; application_name: string }>(
      `SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    for (const { pid, application_name: name } of rows) {
      let ticks: number;
      try {
        ticks = statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        continue;
      }
      const known = backends.get(pid);
      if (known && known.name === name) known.last = ticks;
      else backends.set(pid, { name, first: started ? 0 : ticks, last: ticks });
    }
  };
  await sample();
  started = true;
  let sampling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch(() => undefined);
  }, POSTGRES_SAMPLE_MS);
  return async () => {
    clearInterval(timer);
    await sampling;
    await sample().catch(() => undefined);
    await client.end();
    const ms = new Map<string, number>();
    for (const { name, first, last } of backends.values())
      ms.set(name, (ms.get(name) ?? 0) + (last - first) * 10);
    return ms;
  };
}
