import type jsonata from 'jsonata';

/**
 * A compiler from a JSONata expression's syntax tree to plain synchronous functions, for the
 * subset program mappings use (issue 15: mapping must cost a small fraction of ingestion).
 * JSONata's own `evaluate` is asynchronous and walks the tree for every record, 20 to 40 µs a
 * record on the bench mapping; a compiled expression does the same work as direct calls.
 *
 * Exactness rests on two rules. Each supported construct is a port of JSONata 2.x's evaluator
 * (jsonata.js: evaluatePath, evaluateStep, lookup, evaluateFilter, evaluateGroupExpression, the
 * operators and built-in functions named below), sequences and their flattening included.
 * Anything else is refused: at compile time (an unsupported node or key: compileFast returns
 * undefined) or at run time (a value the port does not mirror, or any case where JSONata would
 * raise an error: evaluate returns NOT_EVALUATED). The caller then evaluates with JSONata, so a
 * record's result and error never depend on the subset. jsonata-fast.spec.ts compares the two
 * over generated records.
 */

/** What evaluate returns when the record must be evaluated by JSONata itself. */
export const NOT_EVALUATED: unique symbol = Symbol('not evaluated by the compiled expression');

export interface CompiledExpression {
  /** The variables (`$name`) the expression names, so a caller binds only those. */
  readonly variables: ReadonlySet<string>;
  evaluate(input: unknown, bindings: Readonly<Record<string, unknown>>): unknown;
}

export interface CompileOptions {
  /** The variables the caller binds (`topic`, `partition`…); any other `$name` is not compiled. */
  variables: readonly string[];
  /**
   * JSONata's stack guardrail. Compiled evaluation nests one frame per tree level, as JSONata's
   * does; an expression deep enough to come near the limit is left to JSONata, which enforces it.
   */
  stackDepth: number;
}

/** Thrown while compiling a construct outside the subset. */
class NotCompiled extends Error {}

/** Thrown while evaluating a value the port does not mirror, or where JSONata raises an error. */
const OUTSIDE = new Error('outside the compiled subset of JSONata');

/**
 * JSONata's sequence: an array its evaluator made, flattened into paths and collapsed to its only
 * item (or to nothing) when an expression ends. Marked as JSONata marks it, by a `sequence` flag
 * (a subclass of Array would do, but V8 builds those several times slower); `concat` and `map`
 * return unmarked arrays, as in JSONata.
 */
type Sequence = unknown[] & { sequence?: true };

function sequence(): Sequence {
  const created: Sequence = [];
  created.sequence = true;
  return created;
}

function sequenceOf(value: unknown): Sequence {
  const created: Sequence = [value];
  created.sequence = true;
  return created;
}

/** Array.isArray, typed as what it finds in a JSON value: unknown items, not `any`. */
const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value);

const flagged = (value: Sequence): boolean => value.sequence === true;
const isSequence = (value: unknown): value is Sequence => Array.isArray(value) && flagged(value);

/** The end of JSONata's evaluate(): an empty sequence is nothing, a singleton its item. */
function collapse(value: unknown): unknown {
  if (isSequence(value)) {
    if (value.length === 0) return undefined;
    if (value.length === 1) return value[0];
  }
  return value;
}

interface Frame {
  readonly values: readonly unknown[];
  readonly parent: Frame | undefined;
}

interface Scope {
  readonly root: unknown;
  readonly bindings: Readonly<Record<string, unknown>>;
  readonly frame: Frame | undefined;
}

type Evaluator = (input: unknown, scope: Scope) => unknown;

type Raw = Readonly<Record<string, unknown>>;

const isRaw = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function asNode(value: unknown): Raw {
  if (!isRaw(value)) throw new NotCompiled('not a node');
  return value;
}

function asNodes(value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new NotCompiled('not a list of nodes');
  return value;
}

/**
 * Refuses a node carrying any key the port does not handle (predicates, grouping, tuples…). The
 * parser leaves some keys undefined (a call's `name`); JSONata reads those by value, bar the two
 * it tests for presence.
 */
function only(node: Raw, keys: readonly string[]): void {
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || key === 'position' || keys.includes(key)) continue;
    if (value === undefined && key !== 'predicate' && key !== 'group') continue;
    throw new NotCompiled(`${String(node.type)}.${key}`);
  }
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new NotCompiled('not a name');
  return value;
}

// Ports of JSONata's helpers (jsonata.js, same names), each exact for the values that reach it.

/** isNumeric: a number that is not NaN; JSONata raises an error on an infinite one. */
function isNumeric(value: unknown): value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (!Number.isFinite(value)) throw OUTSIDE;
  return true;
}

/** lookup: a field of an object, or of every item of an array, flattened one level. */
function lookup(input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = sequence();
    for (let i = 0; i < input.length; i++) {
      const found = lookup(input[i], key);
      if (found === undefined) continue;
      if (Array.isArray(found)) for (const value of found) result.push(value);
      else result.push(found);
    }
    return result;
  }
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, key))
    return Reflect.get(input, key);
  return undefined;
}

/** append: JSONata's sequence concatenation, undefined disregarded. */
function append(first: unknown, second: unknown): unknown {
  if (first === undefined) return second;
  if (second === undefined) return first;
  const left = Array.isArray(first) ? first : sequenceOf(first);
  return left.concat(Array.isArray(second) ? second : [second]);
}

/** fn.boolean: JSONata's effective boolean value; undefined stays undefined. */
function toBoolean(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 1) return toBoolean(value[0]);
    return value.length > 1 && value.filter((item) => toBoolean(item)).length > 0;
  }
  if (typeof value === 'string') return value.length > 0;
  if (isNumeric(value)) return value !== 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return value === true;
}

const boolize = (value: unknown): boolean => toBoolean(value) ?? false;

/** isDeepEqual; an array against an object compares JSONata's internal flags, so it is refused. */
function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs !== 'object' || typeof rhs !== 'object' || lhs === null || rhs === null) return false;
  if (Array.isArray(lhs) !== Array.isArray(rhs)) throw OUTSIDE;
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (lhs.length !== rhs.length) return false;
    for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
    return true;
  }
  const lkeys = Object.getOwnPropertyNames(lhs).sort();
  const rkeys = Object.getOwnPropertyNames(rhs).sort();
  if (lkeys.length !== rkeys.length) return false;
  for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
  return lkeys.every((key) => isDeepEqual(Reflect.get(lhs, key), Reflect.get(rhs, key)));
}

/** fn.string: text as is, anything else as JSON with numbers to 15 significant digits. */
function toText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && !Number.isFinite(value)) throw OUTSIDE;
  return JSON.stringify(value, (_key, inner: unknown) =>
    isNumeric(inner) && !Number.isInteger(inner) ? Number(inner.toPrecision(15)) : inner,
  );
}

function numeric(lhs: unknown, rhs: unknown, op: string): number | undefined {
  if ((lhs !== undefined && !isNumeric(lhs)) || (rhs !== undefined && !isNumeric(rhs))) throw OUTSIDE;
  if (lhs === undefined || rhs === undefined) return undefined;
  switch (op) {
    case '+':
      return lhs + rhs;
    case '-':
      return lhs - rhs;
    case '*':
      return lhs * rhs;
    case '/':
      return lhs / rhs;
    default:
      return lhs % rhs;
  }
}

function compare<T extends string | number>(a: T, b: T, op: string): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function comparison(lhs: unknown, rhs: unknown, op: string): boolean | undefined {
  const comparable = (value: unknown): boolean =>
    value === undefined || typeof value === 'string' || typeof value === 'number';
  if (!comparable(lhs) || !comparable(rhs)) throw OUTSIDE;
  if (lhs === undefined || rhs === undefined) return undefined;
  if (typeof lhs === 'number' && typeof rhs === 'number') return compare(lhs, rhs, op);
  if (typeof lhs === 'string' && typeof rhs === 'string') return compare(lhs, rhs, op);
  throw OUTSIDE;
}

/** The `in` operator: strict equality with an item, so NaN is in nothing. */
function includes(lhs: unknown, rhs: unknown): boolean {
  if (lhs === undefined || rhs === undefined) return false;
  const items: readonly unknown[] = Array.isArray(rhs) ? rhs : [rhs];
  for (const item of items) if (item === lhs) return true;
  return false;
}

/** fn.round: round half to even, at `precision` decimal places shifted as text. */
function round(arg: number, precision: number | undefined): number {
  let value = arg;
  if (precision) {
    const [mantissa, exponent] = value.toString().split('e');
    value = +`${mantissa}e${exponent ? +exponent + precision : precision}`;
  }
  let result = Math.round(value);
  if (Math.abs(result - value) === 0.5 && Math.abs(result % 2) === 1) result = result - 1;
  if (precision) {
    const [mantissa, exponent] = result.toString().split('e');
    result = +`${mantissa}e${exponent ? +exponent - precision : -precision}`;
  }
  return Object.is(result, -0) ? 0 : result;
}

const JSON_NUMBER = /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/;
const RADIX_NUMBER = /^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/;

function toNumber(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = parseFloat(value);
    if (JSON_NUMBER.test(value) && !Number.isNaN(parsed) && Number.isFinite(Number(value))) return parsed;
    if (RADIX_NUMBER.test(value)) return Number(value);
  }
  if (value === true) return 1;
  if (value === false) return 0;
  throw OUTSIDE;
}

/** A built-in function's body once its arguments are evaluated, checked as its signature checks. */
type Builtin = (args: readonly unknown[]) => unknown;

const text1 =
  (op: (value: string) => string): Builtin =>
  ([value]) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw OUTSIDE;
    return op(value);
  };

/** The built-ins compiled, by name, with the argument counts compiled (others are left to JSONata). */
const BUILTINS: Readonly<Record<string, { arity: readonly number[]; apply: Builtin }>> = {
  string: { arity: [1], apply: ([value]) => toText(value) },
  number: { arity: [1], apply: ([value]) => toNumber(value) },
  exists: { arity: [1], apply: ([value]) => value !== undefined },
  boolean: { arity: [1], apply: ([value]) => toBoolean(value) },
  not: { arity: [1], apply: ([value]) => (value === undefined ? undefined : !toBoolean(value)) },
  lowercase: { arity: [1], apply: text1((value) => value.toLowerCase()) },
  uppercase: { arity: [1], apply: text1((value) => value.toUpperCase()) },
  trim: {
    arity: [1],
    apply: text1((value) => {
      let result = value.replace(/[ \t\n\r]+/gm, ' ');
      if (result.startsWith(' ')) result = result.substring(1);
      if (result.endsWith(' ')) result = result.substring(0, result.length - 1);
      return result;
    }),
  },
  round: {
    arity: [1, 2],
    apply: ([value, precision]) => {
      if (
        (value !== undefined && typeof value !== 'number') ||
        (precision !== undefined && typeof precision !== 'number')
      )
        throw OUTSIDE;
      return value === undefined ? undefined : round(value, precision);
    },
  },
  sum: {
    arity: [1],
    apply: ([value]) => {
      if (value === undefined) return undefined;
      const items: readonly unknown[] = Array.isArray(value) ? value : [value];
      let total = 0;
      for (const item of items) {
        if (typeof item !== 'number') throw OUTSIDE;
        total += item;
      }
      return total;
    },
  },
  count: {
    arity: [1],
    apply: ([value]) => (value === undefined ? 0 : Array.isArray(value) ? value.length : 1),
  },
};

interface Context {
  readonly variables: ReadonlySet<string>;
  /** The parameters of the lambdas around the node, innermost last. */
  readonly lambdas: readonly (readonly string[])[];
  readonly depth: number;
  readonly maxDepth: number;
  readonly named: Set<string>;
}

const deeper = (context: Context): Context => {
  if (context.depth + 1 > context.maxDepth) throw new NotCompiled('too deep');
  return { ...context, depth: context.depth + 1 };
};

/**
 * A node as JSONata's evaluate() returns it: its value, a sequence collapsed. The collapse sits
 * here alone, as in JSONata, because collapsing twice differs from once when a sequence holds one
 * (a tail call's result, below).
 */
function compile(raw: unknown, outer: Context): Evaluator {
  const context = deeper(outer);
  const node = asNode(raw);
  const evaluate = compileNode(node, context);
  // Literals, operators and constructors make no sequence (nor does a built-in), so they need none.
  const builtin = node.type === 'function' && isRaw(node.procedure) && node.procedure.value !== 'map';
  if (['string', 'number', 'value', 'binary', 'unary'].includes(String(node.type)) || builtin)
    return evaluate;
  return (input, scope) => collapse(evaluate(input, scope));
}

function compileNode(node: Raw, context: Context): Evaluator {
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      only(node, ['value']);
      const value = node.value;
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value))
        throw new NotCompiled('literal');
      return () => value;
    }
    case 'variable':
      only(node, ['value']);
      return compileVariable(text(node.value), context);
    case 'name': {
      only(node, ['value']);
      const name = text(node.value);
      return (input) => lookup(input, name);
    }
    case 'path':
      only(node, ['steps']);
      return compilePath(asNodes(node.steps), context);
    case 'binary':
      only(node, ['value', 'lhs', 'rhs']);
      return compileBinary(text(node.value), compile(node.lhs, context), compile(node.rhs, context));
    case 'unary':
      return compileUnary(node, context);
    case 'condition': {
      only(node, ['condition', 'then', 'else']);
      const condition = compile(node.condition, context);
      const then = compile(node.then, context);
      const otherwise = node.else === undefined ? undefined : compile(node.else, context);
      return (input, scope) =>
        toBoolean(condition(input, scope))
          ? then(input, scope)
          : otherwise
            ? otherwise(input, scope)
            : undefined;
    }
    case 'block': {
      only(node, ['expressions']);
      // Without bindings (`:=` is not compiled) a block is its last expression; the others
      // cannot affect it, and would only raise errors JSONata raises too, so they still run.
      const expressions = asNodes(node.expressions).map((expression) => compile(expression, context));
      return (input, scope) => {
        let result: unknown;
        for (const expression of expressions) result = expression(input, scope);
        return result;
      };
    }
    case 'function':
      return compileCall(node, context);
    default:
      throw new NotCompiled(String(node.type));
  }
}

function compileVariable(name: string, context: Context): Evaluator {
  if (name === '') return (input) => input;
  if (name === '$') return (_input, scope) => scope.root;
  for (let up = 0; up < context.lambdas.length; up++) {
    const params = context.lambdas[context.lambdas.length - 1 - up] ?? [];
    const index = params.lastIndexOf(name);
    if (index < 0) continue;
    return (_input, scope) => {
      let frame = scope.frame;
      for (let i = 0; i < up; i++) frame = frame?.parent;
      return frame?.values[index];
    };
  }
  if (!context.variables.has(name)) throw new NotCompiled(`$${name}`);
  context.named.add(name);
  return (_input, scope) => (Object.hasOwn(scope.bindings, name) ? scope.bindings[name] : undefined);
}

/** evaluateFilter: a predicate `[…]` on a step's result: an index, indexes, or a condition. */
function compileFilter(raw: unknown, context: Context): (input: unknown, scope: Scope) => readonly unknown[] {
  const stage = asNode(raw);
  only(stage, ['expr']);
  if (stage.type !== 'filter') throw new NotCompiled('stage');
  const predicate = asNode(stage.expr);
  if (predicate.type === 'number') {
    only(predicate, ['value']);
    const value = predicate.value;
    if (typeof value !== 'number') throw new NotCompiled('index');
    const floor = Math.floor(value);
    return (input) => {
      const items: readonly unknown[] = Array.isArray(input) ? input : sequenceOf(input);
      const item = items[floor < 0 ? items.length + floor : floor];
      if (item === undefined) return sequence();
      return isArray(item) ? item : sequenceOf(item);
    };
  }
  const condition = compile(predicate, context);
  return (input, scope) => {
    const items: readonly unknown[] = Array.isArray(input) ? input : sequenceOf(input);
    const results = sequence();
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      let res = condition(item, scope);
      if (isNumeric(res)) res = [res];
      if (Array.isArray(res) && res.filter((value) => !isNumeric(value)).length === 0) {
        for (const position of res) {
          const floor = Math.floor(Number(position));
          if ((floor < 0 ? items.length + floor : floor) === index) results.push(item);
        }
      } else if (toBoolean(res)) results.push(item);
    }
    return results;
  };
}

type StepEvaluator = (input: readonly unknown[], scope: Scope, lastStep: boolean) => readonly unknown[];

/** evaluateStep: the step on each item of the input sequence, then flattened one level. */
function compileStep(raw: unknown, context: Context): StepEvaluator {
  const node = asNode(raw);
  const { stages: rawStages, ...rest } = node;
  const step = compile(rest, context);
  const stages =
    rawStages === undefined ? [] : asNodes(rawStages).map((stage) => compileFilter(stage, context));
  return (input, scope, lastStep) => {
    // Flattened as the results come; the first is kept for JSONata's one exception: a last step
    // that yields a single array of the record's (not a sequence) yields that array itself.
    const flattened = sequence();
    let count = 0;
    let first: unknown;
    for (let i = 0; i < input.length; i++) {
      let res = step(input[i], scope);
      for (const stage of stages) res = stage(res, scope);
      if (res === undefined) continue;
      if (count++ === 0) first = res;
      if (Array.isArray(res)) for (const value of res) flattened.push(value);
      else flattened.push(res);
    }
    if (lastStep && count === 1 && isArray(first) && !isSequence(first)) return first;
    return flattened;
  };
}

/** evaluatePath: each step over the sequence the previous one made. */
function compilePath(rawSteps: readonly unknown[], context: Context): Evaluator {
  if (rawSteps.length === 0) throw new NotCompiled('empty path');
  const absolute = asNode(rawSteps[0]).type === 'variable';
  const steps = rawSteps.map((step) => compileStep(step, context));
  const last = steps.length - 1;
  const run = (from: number, start: readonly unknown[], scope: Scope): readonly unknown[] => {
    let sequence = start;
    for (let i = from; i <= last; i++) {
      const step = steps[i];
      if (!step) break;
      sequence = step(sequence, scope, i === last);
      if (sequence.length === 0) break;
    }
    return sequence;
  };
  const general: Evaluator = (input, scope) =>
    run(0, Array.isArray(input) && !absolute ? input : sequenceOf(input), scope);
  // Most mapped fields are paths of names (`customer.id`), or start with some (`order.lines.{…}`).
  // Through objects alone, JSONata's name steps each make and flatten a one-item sequence, which
  // amounts to reading the field; an array at the end of the path is returned as it is, one on
  // the way is flattened into the next step's input. A sequence held in an object (a compiled
  // object's value, not a record's) is left to the general steps.
  const names = plainNames(rawSteps);
  if (names.length === 0) return general;
  if (names.length === steps.length)
    return (input, scope) => {
      let current = input;
      for (const name of names) {
        if (Array.isArray(current)) return general(input, scope);
        if (typeof current !== 'object' || current === null || !Object.hasOwn(current, name))
          return undefined;
        current = Reflect.get(current, name);
      }
      return isSequence(current) ? general(input, scope) : current;
    };
  return (input, scope) => {
    let current = input;
    let done = 0;
    while (
      done < names.length &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current)
    ) {
      const name = names[done] ?? '';
      current = Object.hasOwn(current, name) ? Reflect.get(current, name) : undefined;
      done++;
    }
    if (done === 0 || isSequence(current)) return general(input, scope);
    if (current === undefined) return sequence();
    return run(done, Array.isArray(current) ? current : sequenceOf(current), scope);
  };
}

/** The leading steps that are plain names (no predicate, no variable), as the names. */
function plainNames(steps: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const step of steps) {
    if (!isRaw(step) || step.type !== 'name' || typeof step.value !== 'string') break;
    const plain = Object.entries(step).every(
      ([key, value]) => key === 'type' || key === 'value' || key === 'position' || value === undefined,
    );
    if (!plain) break;
    names.push(step.value);
  }
  return names;
}

function compileBinary(op: string, lhs: Evaluator, rhs: Evaluator): Evaluator {
  switch (op) {
    case 'and':
      return (input, scope) => boolize(lhs(input, scope)) && boolize(rhs(input, scope));
    case 'or':
      return (input, scope) => boolize(lhs(input, scope)) || boolize(rhs(input, scope));
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return (input, scope) => numeric(lhs(input, scope), rhs(input, scope), op);
    case '=':
    case '!=': {
      const equal = op === '=';
      return (input, scope) => {
        const l = lhs(input, scope);
        const r = rhs(input, scope);
        if (l === undefined || r === undefined) return false;
        return isDeepEqual(l, r) === equal;
      };
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (input, scope) => comparison(lhs(input, scope), rhs(input, scope), op);
    case '&':
      return (input, scope) => {
        const l = lhs(input, scope);
        const r = rhs(input, scope);
        return (toText(l) ?? '') + (toText(r) ?? '');
      };
    case 'in':
      return (input, scope) => includes(lhs(input, scope), rhs(input, scope));
    default:
      throw new NotCompiled(op);
  }
}

function compileUnary(node: Raw, context: Context): Evaluator {
  switch (node.value) {
    case '-': {
      only(node, ['value', 'expression']);
      const expression = compile(node.expression, context);
      return (input, scope) => {
        const value = expression(input, scope);
        if (value === undefined) return undefined;
        if (!isNumeric(value)) throw OUTSIDE;
        return -value;
      };
    }
    case '[': {
      // An array constructor; `consarray` (one starting a path, `[a, b].c`) is not compiled.
      only(node, ['value', 'expressions']);
      const items = asNodes(node.expressions).map((item) => ({
        nested: isRaw(item) && item.value === '[',
        evaluate: compile(item, context),
      }));
      return (input, scope) => {
        let result: unknown = [];
        for (const item of items) {
          const value = item.evaluate(input, scope);
          if (value === undefined) continue;
          if (item.nested && Array.isArray(result)) result.push(value);
          else result = append(result, value);
        }
        return result;
      };
    }
    case '{': {
      only(node, ['value', 'lhs']);
      const pairs = asNodes(node.lhs).map((pair) => {
        const [key, value, ...more] = asNodes(pair);
        if (more.length > 0) throw new NotCompiled('pair');
        return { key: compile(key, context), value: compile(value, context) };
      });
      const literalKeys = asNodes(node.lhs).map((pair) => {
        const keyNode = asNode(asNodes(pair)[0]);
        return keyNode.type === 'string' && typeof keyNode.value === 'string' ? keyNode.value : undefined;
      });
      const keys = literalKeys.filter((key) => key !== undefined);
      const plainKeys =
        keys.length === pairs.length &&
        new Set(keys).size === keys.length &&
        keys.every((key) => key !== '__proto__' && key !== '_jsonata_lambda' && key !== '_jsonata_function');
      if (!plainKeys) return (input, scope) => group(pairs, input, scope);
      // Distinct literal keys over one item (the usual `{ 'sku': sku }`): each key is its pair's,
      // so the grouping comes down to evaluating each value on the item, in the pairs' order.
      const values = pairs.map(({ value }) => value);
      return (input, scope) => {
        if (Array.isArray(input)) return group(pairs, input, scope);
        const result: Record<string, unknown> = {};
        for (let i = 0; i < values.length; i++) {
          const value = values[i]?.(input, scope);
          if (value !== undefined) result[keys[i] ?? ''] = value;
        }
        return result;
      };
    }
    default:
      throw new NotCompiled(`unary ${String(node.value)}`);
  }
}

/** evaluateGroupExpression without a tuple stream: an object constructor over its input. */
function group(
  pairs: readonly { key: Evaluator; value: Evaluator }[],
  input: unknown,
  scope: Scope,
): unknown {
  const items: readonly unknown[] = Array.isArray(input) ? input : sequenceOf(input);
  // JSONata pushes `undefined` into an empty input array, which may be the record's own.
  if (items.length === 0) throw OUTSIDE;
  const groups: Record<string, { data: unknown; pair: number }> = {};
  for (const item of items) {
    for (let pair = 0; pair < pairs.length; pair++) {
      const key = pairs[pair]?.key(item, scope);
      if (key === undefined) continue;
      // Not text (JSONata's error), its internal flags, or a key an object literal cannot own.
      if (
        typeof key !== 'string' ||
        key === '_jsonata_lambda' ||
        key === '_jsonata_function' ||
        key === '__proto__'
      )
        throw OUTSIDE;
      const entry = Object.hasOwn(groups, key) ? groups[key] : undefined;
      if (!entry) groups[key] = { data: item, pair };
      else if (entry.pair !== pair) throw OUTSIDE;
      else entry.data = append(entry.data, item);
    }
  }
  const result: Record<string, unknown> = {};
  for (const [key, { data, pair }] of Object.entries(groups)) {
    const value = pairs[pair]?.value(data, scope);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/** evaluateFunction for the built-ins and `$map` with a lambda: the result before collapse. */
function compileCall(node: Raw, context: Context): Evaluator {
  only(node, ['value', 'arguments', 'procedure']);
  if (node.type !== 'function' || node.value !== '(') throw new NotCompiled('call');
  const procedure = asNode(node.procedure);
  only(procedure, ['value']);
  const name = text(procedure.value);
  if (
    procedure.type !== 'variable' ||
    context.variables.has(name) ||
    context.lambdas.some((p) => p.includes(name))
  )
    throw new NotCompiled('procedure');
  const rawArgs = asNodes(node.arguments);
  if (name === 'map') return compileMap(rawArgs, context);
  const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
  if (!builtin || !builtin.arity.includes(rawArgs.length)) throw new NotCompiled(`$${name}`);
  const args = rawArgs.map((arg) => compile(arg, context));
  const apply = builtin.apply;
  return (input, scope) => apply(args.map((arg) => arg(input, scope)));
}

/**
 * A lambda's body. JSONata wraps a body that is a call in a thunk and applies it in a trampoline,
 * whose result is the call's, not collapsed. A thunk deeper in the body (a branch of a condition,
 * the end of a block) passes through nodes that would collapse the call's result had it not been
 * a thunk, so it is left to JSONata.
 */
function compileBody(node: Raw, context: Context): Evaluator {
  if (node.type !== 'lambda') return compile(node, context);
  only(node, ['thunk', 'arguments', 'body']);
  if (node.thunk !== true || asNodes(node.arguments).length > 0) throw new NotCompiled('lambda');
  return compileCall(asNode(node.body), deeper(context));
}

/** `$map(array, function($v, $i, $a) { … })`: the lambda with as many arguments as it names. */
function compileMap(rawArgs: readonly unknown[], context: Context): Evaluator {
  const [rawArray, rawLambda, ...more] = rawArgs;
  if (more.length > 0) throw new NotCompiled('$map');
  const array = compile(rawArray, context);
  const lambda = asNode(rawLambda);
  only(lambda, ['arguments', 'body']);
  if (lambda.type !== 'lambda') throw new NotCompiled('$map without a lambda');
  const params = asNodes(lambda.arguments).map((param) => {
    const variable = asNode(param);
    only(variable, ['value']);
    if (variable.type !== 'variable') throw new NotCompiled('parameter');
    return text(variable.value);
  });
  const inner = { ...context, lambdas: [...context.lambdas, params] };
  const body = compileBody(asNode(lambda.body), inner);
  return (input, scope) => {
    const value = array(input, scope);
    if (value === undefined) return undefined;
    const items: readonly unknown[] = Array.isArray(value) ? value : [value];
    const result = sequence();
    for (let i = 0; i < items.length; i++) {
      const values = [items[i], params.length >= 2 ? i : undefined, params.length >= 3 ? items : undefined];
      const res = body(input, { ...scope, frame: { values, parent: scope.frame } });
      if (res !== undefined) result.push(res);
    }
    return result;
  };
}

/**
 * The expression compiled, or undefined when it uses anything outside the subset (the caller
 * then evaluates every record with JSONata).
 */
export function compileFast(ast: jsonata.ExprNode, options: CompileOptions): CompiledExpression | undefined {
  const context: Context = {
    variables: new Set(options.variables),
    lambdas: [],
    depth: 0,
    // JSONata counts a frame per tree level, as compile does; the margin keeps well below its limit.
    maxDepth: Math.floor(options.stackDepth / 4),
    named: new Set(),
  };
  let evaluator: Evaluator;
  try {
    evaluator = compile(ast, context);
  } catch (error) {
    if (error instanceof NotCompiled) return undefined;
    throw error;
  }
  return {
    variables: context.named,
    evaluate(input, bindings) {
      // JSONata wraps a top-level array in a sequence of its own, which this port leaves out.
      if (Array.isArray(input)) return NOT_EVALUATED;
      try {
        return evaluator(input, { root: input, bindings, frame: undefined });
      } catch {
        // OUTSIDE, or an error JSONata raises too: JSONata evaluates, with its own reason.
        return NOT_EVALUATED;
      }
    },
  };
}

/** The variables (`$name`) an expression names anywhere, to bind only those for JSONata. */
export function namedVariables(ast: jsonata.ExprNode): ReadonlySet<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (isRaw(value)) {
      if (value.type === 'variable' && typeof value.value === 'string') names.add(value.value);
      for (const inner of Object.values(value)) visit(inner);
    }
  };
  visit(ast);
  return names;
}

/**
 * A JSONata result as plain JSON values: JSONata's sequences (and this port's) are arrays with a
 * marker, and its objects have no prototype; the schema and JSON expect plain ones.
 */
export function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainValue(inner)]));
  return value;
}
