import fc from 'fast-check';
import jsonata from 'jsonata';
import { compileFast, NOT_EVALUATED, plainValue } from './jsonata-fast';

/**
 * The proof that compiled expressions are JSONata: every expression below, over thousands of
 * seeded random records (missing fields, nulls, arrays of none, one and many items, numbers as
 * text, nested arrays), gives JSONata's own result, deep and in key order, or hands the record
 * back to JSONata (NOT_EVALUATED). Where JSONata raises an error, the compiled expression must
 * hand the record back, so the reason is always JSONata's.
 */

const POSITION = { topic: 'orders', partition: 2, offset: '41', key: 'c-42', timestamp: '1772359200000' };
const VARIABLES = Object.keys(POSITION);
const OPTIONS = { variables: VARIABLES, stackDepth: 1_000 };

/** The bench's mapping (tools/bench ingestion-events.ts, BENCH_SOURCE_MAPPING), the case issue 15 measures. */
const BENCH_TYPE =
  "kind = 'order' ? 'order.placed' : kind = 'view' ? 'product.viewed' : 'customer.registered'";
const BENCH_PROPERTIES =
  "kind = 'order' ? { 'orderId': order.ref, 'total': order.amount, 'currency': order.currency, 'items': [order.lines.{ 'sku': sku, 'quantity': qty, 'price': price }] } : kind = 'view' ? { 'sku': sku }";

const EXPRESSIONS = [
  // paths and field lookups, through and onto arrays
  'id',
  'order.ref',
  'order.lines',
  'order.lines.sku',
  'lines.qty',
  'a.b.a',
  'a.a.a.a',
  'tags',
  '$.id',
  '$$.order.ref',
  '$',
  // literals, constructors, conditionals
  "'x'",
  '42',
  'true',
  'null',
  BENCH_TYPE,
  BENCH_PROPERTIES,
  "{ 'a': a, 'b': b, 'kind': kind }",
  '{ kind: id }',
  "{ 'n': n }.n",
  '[a, b, [n]]',
  '[order.lines.{ "sku": sku }]',
  'order.lines.{ "sku": sku, "quantity": qty, "price": price }',
  'a.{ "x": b }',
  "profile ? { 'email': profile.email, 'firstName': profile.name }",
  "a ? 'yes' : 'no'",
  '(a; b)',
  '()',
  // operators
  "kind = 'order' and status != 'REFUNDED'",
  'a or b',
  'a = b',
  "order.amount = '19.90'",
  'n + 1',
  'n * 2 - a',
  'n / 4',
  'n % 3',
  '-n',
  'n > 3',
  "s < 'm'",
  'n >= a',
  "'x' in tags",
  "'order:' & id & ':' & $lowercase(status)",
  "$topic & ':' & $string($partition) & ':' & $offset",
  'a & b',
  // functions
  '$string(n)',
  '$string(a)',
  '$number(s)',
  '$number(n)',
  '$exists(profile.email)',
  '$uppercase(currency)',
  '$trim(name)',
  '$round(n, 2)',
  '$round(n)',
  '$sum(order.lines.price)',
  '$sum(lines.qty)',
  '$count(order.lines)',
  '$count(tags)',
  '$boolean(a)',
  '$not(b)',
  "$map(order.lines, function($l) { $l.sku & '/' & $string($l.qty) })",
  "$map(tags, function($t, $i) { { 'tag': $t, 'at': $i } })",
  '$map(lines, function($l) { $map($l.tags, function($t) { $t }) })',
  '$map(tags, function($t, $i, $all) { $count($all) + $i })',
  'lines.$string(qty)',
  // predicates
  'order.lines[qty > 1].sku',
  'lines[0]',
  'lines[-1].price',
  'tags[1]',
  "tags[$ = 'a']",
  'lines[[0, 2]].qty',
  'lines[qty].sku',
  'tags[1.7]',
  'tags[-1.5]',
  "order.lines[sku = 'a'][0]",
  'a.b[0].a',
  // as the worked example (program/examples/orders-source) and mappings like it write them
  "'orders:' & ref & ':' & $lowercase(status)",
  "status = 'REFUNDED' ? 'order.refunded' : 'order.placed'",
  "email ? { 'email': email, 'firstName': name }",
  "{ 'lines': lines.{ 'q': qty, 'p': $number(price) }, 'count': $count(lines) }",
  '$sum($map(lines, function($l) { $l.qty * 2 }))',
  "$exists(order) and $count(order.lines) > 0 ? 'order' : 'other'",
];

/** Values from the records' vocabulary as well as arbitrary ones, so conditions sometimes hold. */
const scalar = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, 1, 2, 2.5, -3, 0.1, 1e21, 19.9),
  fc.integer({ min: -10, max: 100 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom('', 'a', 'x', 'order', 'view', 'signup', 'PLACED', 'REFUNDED', 'usd', 'Zed', 'm'),
  fc.constantFrom('12', '1.5', '-3', '1e3', '0x1F', ' 7', '19.90', ' Ann \t Lee ', 'sku-1'),
);
const KEYS = [
  'kind',
  'id',
  'ts',
  'user',
  'profile',
  'order',
  'ref',
  'amount',
  'currency',
  'lines',
  'sku',
  'qty',
];
const MORE_KEYS = [
  'price',
  'status',
  'email',
  'name',
  'n',
  's',
  'tags',
  'a',
  'b',
  'type',
  '__proto__',
  'constructor',
];
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS, ...MORE_KEYS), tie('value'), { maxKeys: 6 }),
  ),
})).value;
/** A record: mostly an object with many of the fields the expressions read, at times anything at all. */
const record = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(fc.constantFrom(...KEYS, ...MORE_KEYS), json, { maxKeys: 12 }) },
  { weight: 1, arbitrary: json },
);

/** A bench record (asRetailerRecord's shape), with fields dropped at random. */
const benchRecord = fc.record(
  {
    id: fc.string(),
    ts: fc.constant('2026-03-01T10:00:00.000Z'),
    user: fc.string(),
    kind: fc.constantFrom('signup', 'order', 'view'),
    profile: fc.record({ email: fc.string(), firstName: fc.string(), timezone: fc.constant('UTC') }),
    order: fc.record({
      ref: fc.string(),
      amount: fc.constantFrom('19.90', '5.00'),
      currency: fc.constantFrom('USD', 'EUR'),
      lines: fc.array(
        fc.record({ sku: fc.string(), qty: fc.integer({ min: 1, max: 5 }), price: fc.constant('19.90') }),
        { maxLength: 3 },
      ),
    }),
    sku: fc.string(),
  },
  { requiredKeys: ['id', 'ts', 'user', 'kind'] },
);

/** The records, JSON-parsed as ingestion parses them (so -0 and duplicate-free keys are what JSON gives). */
function sample(arbitrary: fc.Arbitrary<unknown>, seed: number, numRuns: number): unknown[] {
  return fc.sample(arbitrary, { seed, numRuns }).map((value) => {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  });
}

/**
 * Deep equality stricter than jest's and blind to its pitfalls: -0 is not 0, an absent key is not
 * an undefined one, keys must come in the same order (they reach JSON and Kafka), and an own
 * `constructor` or `__proto__` key (the records have them) is a key like any other.
 */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => same(item, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    if (ka.length !== kb.length || ka.some((key, i) => key !== kb[i])) return false;
    return ka.every((key) => same(Reflect.get(a, key), Reflect.get(b, key)));
  }
  return Object.is(a, b);
}

type Outcome = { value: unknown } | { error: string };

async function interpreted(expression: jsonata.Expression, input: unknown): Promise<Outcome> {
  try {
    return { value: plainValue(await expression.evaluate(input, POSITION)) };
  } catch (error) {
    return { error: String((error as { code?: string }).code ?? error) };
  }
}

const RECORDS = sample(record, 2026, 3_000);

describe('compileFast', () => {
  it.each(EXPRESSIONS)('evaluates %s as JSONata does, or leaves the record to JSONata', async (source) => {
    const expression = jsonata(source);
    const compiled = compileFast(expression.ast(), OPTIONS);
    expect(compiled).toBeDefined();
    let fast = 0;
    let succeeded = 0;
    for (const input of RECORDS) {
      const result = compiled!.evaluate(input, POSITION);
      const reference = await interpreted(expression, input);
      if ('error' in reference) {
        expect({ input, result }).toEqual({ input, result: NOT_EVALUATED });
        continue;
      }
      succeeded++;
      if (result === NOT_EVALUATED) continue;
      fast++;
      const value = plainValue(result);
      if (!same(value, reference.value)) expect({ input, value }).toEqual({ input, value: reference.value });
    }
    // Records JSONata maps without an error are the compiled code's, bar top-level arrays,
    // empty-array objects and arrays compared with objects, which JSONata handles itself.
    expect(succeeded).toBeGreaterThan(RECORDS.length / 4);
    expect(fast).toBeGreaterThan(succeeded * 0.85);
  });

  it.each([BENCH_TYPE, BENCH_PROPERTIES, 'id', 'ts', 'user', 'profile'])(
    'evaluates the bench mapping’s %s itself, never leaving a bench record to JSONata',
    async (source) => {
      const expression = jsonata(source);
      const compiled = compileFast(expression.ast(), OPTIONS)!;
      for (const input of sample(benchRecord, 15, 2_000)) {
        const result = compiled.evaluate(input, POSITION);
        expect(result).not.toBe(NOT_EVALUATED);
        const reference = await interpreted(expression, input);
        expect('value' in reference && same(plainValue(result), reference.value)).toBe(true);
      }
    },
  );

  it.each([
    "$formatNumber(amount / 100, '0.00')",
    'a[]',
    '[a, b].c',
    'a.[b]',
    '($x := 1; $x)',
    '$now()',
    '$unknown',
    'a{ "x": b }',
    '**.a',
    '*.a',
    'a ~> $string()',
    '$sort(tags)',
    '$map(tags, $string)',
    '$map(tags, function($t) { $t ? $string($t) : "" })',
    'a.b@$x',
  ])('leaves %s to JSONata: it is outside the compiled subset', (source) => {
    expect(compileFast(jsonata(source).ast(), OPTIONS)).toBeUndefined();
  });

  it('leaves a top-level array to JSONata, which wraps it in a sequence of its own', () => {
    expect(compileFast(jsonata('a').ast(), OPTIONS)!.evaluate([{ a: 1 }], POSITION)).toBe(NOT_EVALUATED);
  });

  it('leaves an expression nested near the stack limit to JSONata, which enforces it', () => {
    const deep = `${'('.repeat(30)}a${')'.repeat(30)}`;
    expect(compileFast(jsonata(deep).ast(), { ...OPTIONS, stackDepth: 100 })).toBeUndefined();
    expect(compileFast(jsonata(deep).ast(), OPTIONS)).toBeDefined();
  });

  it('names the variables an expression reads, lambda parameters apart', () => {
    const compiled = compileFast(
      jsonata('$topic & $string($offset) & $map(tags, function($partition) { $partition })').ast(),
      OPTIONS,
    );
    expect(compiled?.variables).toEqual(new Set(['topic', 'offset']));
  });
});
