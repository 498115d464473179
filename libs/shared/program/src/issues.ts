import { z } from 'zod';

/**
 * How schema problems are worded. One error map for the whole program file, so a message reads
 * the same wherever the value sits. Messages state the rule (`must be a positive integer`);
 * where the value is and what was found is added around them.
 */

/** A value as a reader of the YAML file would name it: `"abc"`, `12`, `a list`, `a mapping`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** The message of anything thrown, checked by shape: errors may come from another realm. */
export function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string')
    return error.message;
  return String(error);
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate a typo most likely meant, if one is close enough to suggest. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance =
      candidate.toLowerCase() === word.toLowerCase()
        ? 0
        : levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** ` (did you mean "x"?)` or nothing. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

/** `(got "nth_evnt"; did you mean "nth_event"?)` or `(got 12)`. */
function got(value: unknown, candidates: Iterable<string>): string {
  const match = typeof value === 'string' ? closest(value, candidates) : undefined;
  return match === undefined
    ? `(got ${describeValue(value)})`
    : `(got ${describeValue(value)}; did you mean "${match}"?)`;
}

function unknownKeyMessage(key: string, inst: unknown): string {
  const allowed = inst instanceof z.ZodObject ? Object.keys(inst.shape) : [];
  const hint = suggestion(key, allowed);
  if (hint) return `unknown key${hint}`;
  return allowed.length ? `unknown key: expected one of ${allowed.join(', ')}` : 'unknown key';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf(values: readonly unknown[]): string {
  return values.map((value) => (typeof value === 'string' ? value : String(value))).join(', ');
}

/**
 * The program's error map. `unrecognized_keys` issues get one message per key, separated by
 * newlines in key order: the formatter splits them so each key is reported at its own place.
 */
export const programErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected} (got ${describeValue(issue.input)})`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return min <= 1 ? 'must not be empty' : `must have at least ${min} items`;
      if (issue.origin === 'string')
        return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      return issue.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${max} items`;
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
    }
    case 'invalid_value': {
      return `must be one of ${oneOf(issue.values)} ${got(issue.input, issue.values.map(String))}`;
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKeyMessage(key, issue.inst)).join('\n');
    case 'invalid_union': {
      const discriminator = issue.discriminator;
      if (typeof discriminator === 'string' && Array.isArray(issue.options)) {
        const options = issue.options.map(String);
        const value = isRecord(issue.input) ? issue.input[discriminator] : undefined;
        if (value === undefined) return `is required: one of ${oneOf(options)}`;
        return `must be one of ${oneOf(options)} ${got(value, options)}`;
      }
      return `does not match any allowed form (got ${describeValue(issue.input)})`;
    }
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'is not an allowed key';
    case 'invalid_format':
    case 'not_multiple_of':
    case 'invalid_element':
    case 'custom':
      return undefined;
  }
};

/**
 * Parses `value` with `schema` inside a transform, reporting its issues under `path` with the
 * program's wording. Returns the data, or undefined when there were issues.
 */
export function parseNested<T extends z.ZodType>(
  schema: T,
  value: unknown,
  ctx: z.core.$RefinementCtx<unknown>,
  path: readonly PropertyKey[],
): z.output<T> | undefined {
  const result = schema.safeParse(value, { error: programErrorMap });
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] });
  return undefined;
}
