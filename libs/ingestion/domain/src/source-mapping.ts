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

export class SourceMapper {
  private readonly expressions: [Field, jsonata.Expression][];

  /** Throws on an expression that does not compile: the program loader has checked them already. */
  constructor(readonly mapping: SourceMapping) {
    this.expressions = FIELDS.flatMap((field): [Field, jsonata.Expression][] => {
      const expression = mapping[field];
      return expression === undefined ? [] : [[field, jsonata(expression)]];
    });
  }

  async map(value: unknown, position: SourceRecordPosition): Promise<SourceRecordMapping> {
    const { topic, partition, offset, key, timestamp } = position;
    const bindings = { topic, partition, offset, key, timestamp };
    const mapped: Partial<Record<Field, unknown>> = {};
    for (const [field, expression] of this.expressions) {
      try {
        const result = plain(await expression.evaluate(value, bindings));
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
