import { loadProgramFromDir, type SourceMapping } from '@mmp/program';
import fc from 'fast-check';
import { join } from 'node:path';
import { derivedEventId, SourceMapper, type SourceRecordPosition } from './source-mapping';

const at: SourceRecordPosition = {
  topic: 'orders',
  partition: 2,
  offset: '41',
  key: 'c-42',
  timestamp: '1772359200000',
};

/** The worked example the README and program/examples/orders-source show. */
function exampleMapping(): SourceMapping {
  const program = loadProgramFromDir(join(__dirname, '../../../../program/examples/orders-source'));
  const source = program.sources?.[0];
  if (!source) throw new Error('the example program has no source');
  return source.mapping;
}

const placed = {
  order_ref: 'A-1001',
  status: 'PLACED',
  at: '2026-03-01T10:00:00Z',
  customer: { id: 'c-42', email: 'ann@example.com', first_name: 'Ann' },
  amount_cents: 12990,
  currency: 'usd',
  lines: [{ sku: 'MUG', qty: 2, unit_cents: 2000 }],
};

describe('SourceMapper', () => {
  it('maps the example orders topic: a placed order to order.placed, with cents as decimal strings', async () => {
    expect(await new SourceMapper(exampleMapping()).map(placed, at)).toEqual({
      ok: true,
      event: {
        eventId: 'orders:A-1001:placed',
        type: 'order.placed',
        occurredAt: '2026-03-01T10:00:00Z',
        customerId: 'c-42',
        traits: { email: 'ann@example.com', firstName: 'Ann' },
        properties: {
          orderId: 'A-1001',
          total: '129.90',
          currency: 'USD',
          items: [{ sku: 'MUG', quantity: 2, price: '20.00' }],
        },
      },
    });
  });

  it('maps a refund record to order.refunded, leaving the traits out', async () => {
    const refund = {
      order_ref: 'A-1001',
      status: 'REFUNDED',
      at: '2026-03-04T09:00:00Z',
      customer: { id: 'c-42' },
      amount_cents: 2000,
      currency: 'usd',
    };
    expect(await new SourceMapper(exampleMapping()).map(refund, at)).toEqual({
      ok: true,
      event: {
        eventId: 'orders:A-1001:refunded',
        type: 'order.refunded',
        occurredAt: '2026-03-04T09:00:00Z',
        customerId: 'c-42',
        properties: { orderId: 'A-1001', amount: '20.00', currency: 'USD' },
      },
    });
  });

  it('derives the event id from topic, partition and offset, takes numbers as ids and epoch milliseconds as times', async () => {
    const mapper = new SourceMapper({
      type: "'product.viewed'",
      occurredAt: 'ts',
      customerId: 'user',
      properties: "{ 'sku': $key, 'offset': $offset }",
    });
    expect(await mapper.map({ ts: 1772359200000, user: 42 }, at)).toEqual({
      ok: true,
      event: {
        eventId: 'orders:2:41',
        type: 'product.viewed',
        occurredAt: '2026-03-01T10:00:00.000Z',
        customerId: '42',
        properties: { sku: 'c-42', offset: '41' },
      },
    });
    expect(derivedEventId(at)).toBe('orders:2:41');
  });

  it('binds the position variables an expression JSONata evaluates names, and all of them for $eval', async () => {
    const mapper = new SourceMapper({
      type: "'segment.bench'",
      occurredAt: 'ts',
      customerId: 'user',
      // $formatNumber is outside the compiled subset: JSONata evaluates these two.
      properties:
        "{ 'partition': $formatNumber($partition, '0'), 'topic': $eval('$topic & \"/\" & $timestamp') }",
    });
    expect(await mapper.map({ ts: '2026-03-01T10:00:00Z', user: 'c-1' }, at)).toEqual({
      ok: true,
      event: {
        eventId: 'orders:2:41',
        type: 'segment.bench',
        occurredAt: '2026-03-01T10:00:00Z',
        customerId: 'c-1',
        properties: { partition: '2', topic: 'orders/1772359200000' },
      },
    });
  });

  it('gives a reason naming the field and the expression when the mapped event is invalid', async () => {
    const record = { ...placed, currency: 'dollars', customer: { id: 'c-42', email: 'not-an-email' } };
    expect(await new SourceMapper(exampleMapping()).map(record, at)).toEqual({
      ok: false,
      reason:
        'traits.email: must be an email address (from mapping.traits); properties.currency: must be an ISO 4217 code such as "USD" (from mapping.properties)',
    });
    expect(await new SourceMapper(exampleMapping()).map({ status: 'PLACED' }, at)).toEqual({
      ok: false,
      reason: 'occurredAt: must be an ISO 8601 date-time with an offset (from mapping.occurredAt)',
    });
  });

  it('gives the expression’s error as the reason when evaluating fails', async () => {
    const mapper = new SourceMapper({
      type: "'order.placed'",
      occurredAt: 'at',
      customerId: 'id',
      properties: "{ 'total': amount + 'x' }",
    });
    const result = await mapper.map({ at: '2026-03-01T10:00:00Z', id: 'c-1', amount: 3 }, at);
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(/^mapping\.properties: .*must evaluate to a number/),
    });
  });

  it('stops a mapping that never ends, with the reason', async () => {
    const mapper = new SourceMapper(
      {
        type: "'order.placed'",
        occurredAt: 'at',
        customerId: 'id',
        properties: '( $forever := function($n) { $forever($n + 1) }; $forever(0) )',
      },
      { timeoutMs: 50, stackDepth: 1_000 },
    );
    expect(await mapper.map({ at: '2026-03-01T10:00:00Z', id: 'c-1' }, at)).toEqual({
      ok: false,
      reason: 'mapping.properties: Evaluation timeout after 50 milliseconds. Check for infinite loop',
    });
  });

  it('reads a plain path (customer.id) as JSONata does, arrays and missing fields included', async () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, 0, 1.5, '', 'x', true, false),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'id'), tie('value'), { maxKeys: 3 }),
      ),
    })).value;
    const mapping = (properties: string): SourceMapping => ({
      type: "'segment.bench'",
      occurredAt: "'2026-03-01T10:00:00Z'",
      customerId: "'c-1'",
      properties,
    });
    await fc.assert(
      fc.asyncProperty(json, fc.constantFrom('a', 'a.b', 'id', 'a.b.id', 'b.a'), async (record, path) => {
        // In parentheses the expression is a block, which JSONata evaluates: the reference.
        const evaluated = await new SourceMapper(mapping(`(${path})`)).map(record, at);
        expect(await new SourceMapper(mapping(path)).map(record, at)).toEqual(evaluated);
      }),
      { numRuns: 500 },
    );
  });
});
