import { RetailEventV1, validate } from '@mmp/contracts';
import type { SourceMapping } from '@mmp/program';
import jsonata from 'jsonata';
import {
  type CompiledExpression,
  compileFast,
  namedVariables,
  NOT_EVALUATED,
  plainValue,
} from './jsonata-fast';

/**
 * A program source's mapping, compiled once: each record of the retailer's topic becomes our
 * event, validated with the rules of `POST /v1/events`, or a reason naming the field and the
 * expression that produced it (README, "Kafka sources"). Pure apart from JSONata's evaluation.
 * Expressions within the compiled subset (jsonata-fast.ts) run as plain functions; any other, and
 * any record the compiled code leaves, is evaluated by JSONata.
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

/** The event fields a source mapping may set, in the order they are mapped. */
export const MAPPED_FIELDS = [
  'eventId',
  'type',
  'occurredAt',
  'customerId',
  'anonymousId',
  'traits',
  'properties',
] as const;
type Field = (typeof MAPPED_FIELDS)[number];

/** The event id of a record whose mapping names none: a replay of the record is a duplicate. */
export const derivedEventId = (position: SourceRecordPosition): string =>
  `${position.topic}:${position.partition}:${position.offset}`;

/** Ids may be numbers in a retailer's records (Avro longs); ours are text. */
const asId = (value: unknown): unknown => (typeof value === 'number' ? String(value) : value);

/** A time as milliseconds since the epoch (Avro's timestamp-millis) becomes an ISO instant. */
const asTime = (value: unknown): unknown =>
  typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : value;

const errorText = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string'
    ? error.message
    : String(error);

interface CompiledField {
  field: Field;
  expression: jsonata.Expression;
  /** The expression as plain functions, or undefined when it is outside their subset. */
  fast: CompiledExpression | undefined;
}

const POSITION_VARIABLES = ['topic', 'partition', 'offset', 'key', 'timestamp'] as const;
type PositionVariable = (typeof POSITION_VARIABLES)[number];

/**
 * The position variables a mapping names. Binding only those saves building them for every
 * record; `$eval` evaluates text in the caller's variables, so a mapping calling it gets all.
 */
function variablesOf(expressions: readonly jsonata.Expression[]): readonly PositionVariable[] {
  const named = new Set(expressions.flatMap((expression) => [...namedVariables(expression.ast())]));
  return POSITION_VARIABLES.filter((name) => named.has(name) || named.has('eval'));
}

/**
 * JSONata's guardrails for one expression's evaluation. A mapping that recurses without end
 * would hold the partition forever; stopped, its record is dead-lettered with the reason. The
 * time is wall-clock, so it is generous: a loaded machine must never stop a sound mapping.
 */
export const SOURCE_MAPPING_LIMITS = { timeoutMs: 5_000, stackDepth: 1_000 };

export class SourceMapper {
  private readonly expressions: CompiledField[];
  private readonly variables: readonly PositionVariable[];

  /** Throws on an expression that does not compile: the program loader has checked them already. */
  constructor(
    readonly mapping: SourceMapping,
    limits: { timeoutMs: number; stackDepth: number } = SOURCE_MAPPING_LIMITS,
  ) {
    const options = { timeout: limits.timeoutMs, stack: limits.stackDepth };
    const compileOptions = { variables: POSITION_VARIABLES, stackDepth: limits.stackDepth };
    this.expressions = MAPPED_FIELDS.flatMap((field): CompiledField[] => {
      const source = mapping[field];
      if (source === undefined) return [];
      const expression = jsonata(source, options);
      return [{ field, expression, fast: compileFast(expression.ast(), compileOptions) }];
    });
    this.variables = variablesOf(this.expressions.map(({ expression }) => expression));
  }

  async map(value: unknown, position: SourceRecordPosition): Promise<SourceRecordMapping> {
    const bindings: Partial<Record<PositionVariable, unknown>> = {};
    for (const name of this.variables) bindings[name] = position[name];
    const mapped: Partial<Record<Field, unknown>> = {};
    for (const { field, expression, fast } of this.expressions) {
      try {
        const compiled = fast ? fast.evaluate(value, bindings) : NOT_EVALUATED;
        const result = plainValue(
          compiled === NOT_EVALUATED ? await expression.evaluate(value, bindings) : compiled,
        );
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
      const field = MAPPED_FIELDS.find(
        (f) => issue.path === f || issue.path.startsWith(`${f}.`) || issue.path.startsWith(`${f}[`),
      );
      const origin = field && this.mapping[field] !== undefined ? ` (from mapping.${field})` : '';
      return `${issue.path || 'event'}: ${issue.message}${origin}`;
    });
    return { ok: false, reason: reasons.join('; ') };
  }
}
