import { RetailEventV1, validate } from '@mmp/contracts';
import { MAPPED_FIELDS, plainValue, SourceMapper, type SourceRecordPosition } from '@mmp/ingestion-domain';
import jsonata from 'jsonata';
import { isDeepStrictEqual } from 'node:util';
import { loadavg } from 'node:os';
import { asRetailerRecord, BENCH_SOURCE_MAPPING, ingestionBatch } from './cases/ingestion-events';

/**
 * `npm run bench:mapping`: what mapping a JSON source record costs, without Kafka or Postgres
 * (issue 15: mapping must cost a small fraction of ingestion). The records are the
 * `ingestion-source` case's (asRetailerRecord of the ingestion mix), parsed from JSON as the
 * consumer parses them, mapped by the case's mapping (BENCH_SOURCE_MAPPING). Per record, in µs
 * of this process's CPU (process.cpuUsage: user + system, all threads, GC included) and of wall
 * time, the median of BENCH_MAPPING_ROUNDS rounds after a warm-up:
 *
 * - `before`: the mapper before the compiled expressions, re-created here: JSONata's evaluate
 *   for each field that is not a plain path, a direct read for the others, then validation;
 * - `now`: SourceMapper as it is (compiled expressions, validation);
 * - the parts: validation alone, JSONata's evaluate of the non-path fields alone, and the
 *   compiled SourceMapper's mapping without validation is `now` less validation.
 *
 * Both mappers' events are compared, record by record, before anything is timed.
 */

const RECORDS = Number(process.env.BENCH_MAPPING_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_MAPPING_ROUNDS ?? 5);

const position = (offset: number): SourceRecordPosition => ({
  topic: 'bench.orders',
  partition: 0,
  offset: String(offset),
  key: `k${offset}`,
  timestamp: '1772359200000',
});

function records(count: number): unknown[] {
  const out: unknown[] = [];
  for (let batch = 0; out.length < count; batch++)
    for (const { event } of ingestionBatch('bench', batch, 1000, 250))
      out.push(JSON.parse(JSON.stringify(asRetailerRecord(event))));
  return out.slice(0, count);
}

/** The names of a path of plain names, as the mapper before this change detected them. */
function plainPath(source: string): string[] | undefined {
  return /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(source.trim()) ? source.trim().split('.') : undefined;
}

/** The mapper before the compiled expressions (commit a90a1ea's SourceMapper.map), for comparison. */
function previousMapper(mapping: Partial<Record<(typeof MAPPED_FIELDS)[number], string>>) {
  const compiled = MAPPED_FIELDS.flatMap((field) => {
    const source = mapping[field];
    if (source === undefined) return [];
    return [
      { field, expression: jsonata(source, { timeout: 5_000, stack: 1_000 }), path: plainPath(source) },
    ];
  });
  return {
    evaluatedOnly: async (value: unknown, at: SourceRecordPosition): Promise<void> => {
      const bindings = { ...at };
      for (const { expression, path } of compiled)
        if (!path) plainValue(await expression.evaluate(value, bindings));
    },
    map: async (value: unknown, at: SourceRecordPosition): Promise<unknown> => {
      const bindings = { ...at };
      const mapped: Record<string, unknown> = {};
      for (const { field, expression, path } of compiled) {
        const result = path
          ? path.reduce<unknown>(
              (current, name) => (current as Record<string, unknown> | undefined)?.[name],
              value,
            )
          : plainValue(await expression.evaluate(value, bindings));
        if (result !== undefined) mapped[field] = result;
      }
      const candidate = { ...mapped, eventId: mapped.eventId ?? `${at.topic}:${at.partition}:${at.offset}` };
      const result = validate(RetailEventV1, candidate);
      return result.ok ? { ok: true, event: result.value } : { ok: false };
    },
  };
}

interface Figure {
  cpu: number;
  wall: number;
}

async function measure(run: (record: unknown, index: number) => unknown, input: unknown[]) {
  const once = async (): Promise<Figure> => {
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    for (let i = 0; i < input.length; i++) await run(input[i], i);
    const used = process.cpuUsage(cpu);
    return {
      cpu: (used.user + used.system) / input.length,
      wall: Number(process.hrtime.bigint() - wall) / 1_000 / input.length,
    };
  };
  await once(); // warm-up: JIT and caches
  const rounds: Figure[] = [];
  for (let round = 0; round < ROUNDS; round++) rounds.push(await once());
  const median = (values: number[]): number =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return {
    cpu: median(rounds.map((r) => r.cpu)),
    wall: median(rounds.map((r) => r.wall)),
    cpuRange: [Math.min(...rounds.map((r) => r.cpu)), Math.max(...rounds.map((r) => r.cpu))],
  };
}

async function main(): Promise<void> {
  const input = records(RECORDS);
  const mapper = new SourceMapper(BENCH_SOURCE_MAPPING);
  const previous = previousMapper(BENCH_SOURCE_MAPPING);
  const loadAtStart = loadavg()[0] ?? 0;

  for (let i = 0; i < input.length; i++) {
    const [now, before] = [
      await mapper.map(input[i], position(i)),
      await previous.map(input[i], position(i)),
    ];
    if (!now.ok || !isDeepStrictEqual(now, before))
      throw new Error(`record ${i} maps differently: ${JSON.stringify({ now, before })}`);
  }
  const events = await Promise.all(input.map((record, i) => mapper.map(record, position(i))));

  const figures: [string, Awaited<ReturnType<typeof measure>>][] = [
    [
      'before: JSONata for the non-path fields, then validation',
      await measure((r, i) => previous.map(r, position(i)), input),
    ],
    [
      'now: SourceMapper (compiled expressions), then validation',
      await measure((r, i) => mapper.map(r, position(i)), input),
    ],
    [
      'validation alone',
      await measure((_r, i) => {
        const event = events[i];
        return event?.ok ? validate(RetailEventV1, event.event) : undefined;
      }, input),
    ],
    [
      'JSONata evaluate of the non-path fields alone',
      await measure((r, i) => previous.evaluatedOnly(r, position(i)), input),
    ],
  ];
  const loadAtEnd = loadavg()[0] ?? 0;

  const round = (value: number): string => value.toFixed(1);
  console.log(
    `mapping ${input.length} records of the ingestion-source case, ${ROUNDS} rounds (median), node ${process.version}, ` +
      `1-minute load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end`,
  );
  console.log('µs per record                                               CPU (min–max)        wall');
  for (const [name, figure] of figures)
    console.log(
      `${name.padEnd(60)}${round(figure.cpu).padStart(5)} (${round(figure.cpuRange[0] ?? 0)}–${round(figure.cpuRange[1] ?? 0)})`.padEnd(
        81,
      ) + round(figure.wall).padStart(6),
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
