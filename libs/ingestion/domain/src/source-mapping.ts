import { RetailEventV1, validate } from '@mmp/contracts';
import type { SourceMapping } from '@mmp/program';
import jsonata from 'jsonata';

/**
 * A program source's mapping, compiled once: each record of the retailer's topic becomes our
 * event, validated with the rules of `POST /v1/events`, or a reason naming the field and the
 * expression that produced it (README, "Kafka sources"). Pure apart from JSONata's evaluation.
 */

/** Where a record sits, bound in every expression as `$topic`, `$partition`, `$offset`, `$key`, `$timestamp`. */
export interface SourceRecordPosition {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  /** Milliseconds since the epoch when the record was produced, a decimal string. */
  timestamp: string;
}

export type SourceRecordMapping = { ok: true; event: RetailEventV1 } | { ok: false; reason: string };

const FIELDS = [
  'eventId',
  'type',
  'occurredAt',
  'customerId',
  'anonymousId',
  'traits',
  'properties',
] as const;
type Field = (typeof FIELDS)[number];

/** The event id of a record whose mapping names none: a replay of the record is a duplicate. */
export const derivedEventId = (position: SourceRecordPosition): string =>
  `${position.topic}:${position.partition}:${position.offset}`;

/** JSONata's sequences are arrays with a marker; a plain copy is what the schema and JSON expect. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

/** Ids may be numbers in a retailer's records (Avro longs); ours are text. */
const asId = (value: unknown): unknown => (typeof value === 'number' ? String(value) : value);

/** A time as milliseconds since the epoch (Avro's timestamp-millis) becomes an ISO instant. */
const asTime = (value: unknown): unknown =>
  typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : value;

const errorText = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string'
    ? error.message
    : String(error);

/**
 * The names of an expression that is only a path of plain names (`customer.id`, `at`), else
 * undefined. Most mapped fields are such paths, and reading one directly costs nothing, where
 * JSONata's (asynchronous) evaluation costs microseconds per record.
 */
function plainPath(expression: jsonata.Expression): string[] | undefined {
  const node = expression.ast();
  // JSONata's typings leave `path` out of the node types its parser makes.
  const type: string = node.type;
  if (type !== 'path' || !node.steps || Object.keys(node).some((key) => key !== 'type' && key !== 'steps'))
    return undefined;
  const names: string[] = [];
  for (const step of node.steps) {
    const plain = Object.keys(step).every((key) => key === 'type' || key === 'value' || key === 'position');
    if (step.type !== 'name' || typeof step.value !== 'string' || !plain) return undefined;
    names.push(step.value);
  }
  return names;
}

const NOT_PLAIN = Symbol('not plain');

/**
 * A plain path read through objects only; NOT_PLAIN where JSONata's semantics differ from a
 * plain read (a path through or onto an array maps over it), so the caller evaluates instead.
 */
function readPlainPath(value: unknown, names: readonly string[]): unknown {
  let current = value;
  for (const name of names) {
    if (Array.isArray(current)) return NOT_PLAIN;
    if (typeof current !== 'object' || current === null) return undefined;
    current = Object.hasOwn(current, name) ? Reflect.get(current, name) : undefined;
  }
  return Array.isArray(current) ? NOT_PLAIN : current;
}

interface CompiledField {
  field: Field;
  expression: jsonata.Expression;
  path: string[] | undefined;
}

/**
 * JSONata's guardrails for one expression's evaluation. A mapping that recurses without end
 * would hold the partition forever; stopped, its record is dead-lettered with the reason. The
 * time is wall-clock, so it is generous: a loaded machine must never stop a sound mapping.
 */
export const SOURCE_MAPPING_LIMITS = { timeoutMs: 5_000, stackDepth: 1_000 };

export class SourceMapper {
  private readonly expressions: CompiledField[];

  /** Throws on an expression that does not compile: the program loader has checked them already. */
  constructor(
    readonly mapping: SourceMapping,
    limits: { timeoutMs: number; stackDepth: number } = SOURCE_MAPPING_LIMITS,
  ) {
    const options = { timeout: limits.timeoutMs, stack: limits.stackDepth };
    this.expressions = FIELDS.flatMap((field): CompiledField[] => {
      const source = mapping[field];
      if (source === undefined) return [];
      const expression = jsonata(source, options);
      return [{ field, expression, path: plainPath(expression) }];
    });
  }

  async map(value: unknown, position: SourceRecordPosition): Promise<SourceRecordMapping> {
    const { topic, partition, offset, key, timestamp } = position;
    const bindings = { topic, partition, offset, key, timestamp };
    const mapped: Partial<Record<Field, unknown>> = {};
    for (const { field, expression, path } of this.expressions) {
      try {
        const read = path ? readPlainPath(value, path) : NOT_PLAIN;
        const result = read === NOT_PLAIN ? plain(await expression.evaluate(value, bindings)) : read;
        // An expression that finds nothing leaves the field out, as if it were not mapped.
        if (result !== undefined) mapped[field] = result;
      } catch (error) {
        return { ok: false, reason: `mapping.${field}: ${errorText(error)}` };
      }
    }
    const candidate = {
      eventId: asId(mapped.eventId ?? derivedEventId(position)),
      type: mapped.type,
      occurredAt: asTime(mapped.occurredAt),
      ...(mapped.customerId !== undefined ? { customerId: asId(mapped.customerId) } : {}),
      ...(mapped.anonymousId !== undefined ? { anonymousId: asId(mapped.anonymousId) } : {}),
      ...(mapped.traits !== undefined ? { traits: mapped.traits } : {}),
      ...(mapped.properties !== undefined ? { properties: mapped.properties } : {}),
    };
    const result = validate(RetailEventV1, candidate);
    if (result.ok) return { ok: true, event: result.value };
    const reasons = result.issues.map((issue) => {
      const field = FIELDS.find(
        (f) => issue.path === f || issue.path.startsWith(`${f}.`) || issue.path.startsWith(`${f}[`),
      );
      const origin = field && this.mapping[field] !== undefined ? ` (from mapping.${field})` : '';
      return `${issue.path || 'event'}: ${issue.message}${origin}`;
    });
    return { ok: false, reason: reasons.join('; ') };
  }
}
