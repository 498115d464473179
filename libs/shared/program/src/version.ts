import { createHash } from 'node:crypto';
import type { JourneyDefinition } from './journeys';
import type { Program } from './program';

/**
 * JSON with object keys sorted at every depth and undefined members left out, so two values
 * that differ only in key order serialize alike. Arrays keep their order: it is meaningful.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const members = Object.entries(value)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
  return `{${members.join(',')}}`;
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 12);
}

/** A stable 12-hex-digit version of a whole program: equal content, equal version. */
export function programVersion(program: Program): string {
  return shortHash(program);
}

/**
 * A stable 12-hex-digit version of one journey's definition. In-flight instances keep the version
 * they entered. Templates are versioned with the program, not here.
 */
export function journeyVersion(journey: JourneyDefinition): string {
  return shortHash(journey);
}
