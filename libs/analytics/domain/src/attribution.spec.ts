import {
  attributeConversions,
  orderFiguresOf,
  type CustomerActivity,
  type JourneyEntry,
} from './attribution';

const entry = (overrides: Partial<JourneyEntry> = {}): JourneyEntry => ({
  instanceId: 'i-1',
  journeyKey: 'birthday_sequence',
  customerId: 'c-1',
  group: 'treatment',
  enteredAt: new Date('2027-03-15T13:00:00Z'),
  goal: { event: 'order.placed', windowEndsAt: new Date('2027-03-22T13:00:00Z') },
  ...overrides,
});

const order = (eventId: string, occurredAt: string, customerId = 'c-1'): CustomerActivity => ({
  eventId,
  customerId,
  type: 'order.placed',
  occurredAt: new Date(occurredAt),
});

describe('attributeConversions', () => {
  it('counts a goal event exactly at entry and exactly at the end of the window', () => {
    expect(attributeConversions([entry()], [order('e-start', '2027-03-15T13:00:00Z')])).toEqual([
      { instanceId: 'i-1', eventId: 'e-start', convertedAt: new Date('2027-03-15T13:00:00Z') },
    ]);
    expect(attributeConversions([entry()], [order('e-end', '2027-03-22T13:00:00Z')])).toEqual([
      { instanceId: 'i-1', eventId: 'e-end', convertedAt: new Date('2027-03-22T13:00:00Z') },
    ]);
  });

  it('ignores a goal event a millisecond before entry or after the window', () => {
    expect(
      attributeConversions(
        [entry()],
        [order('e-before', '2027-03-15T12:59:59.999Z'), order('e-after', '2027-03-22T13:00:00.001Z')],
      ),
    ).toEqual([]);
  });

  it('attributes the holdout by the same rule as the treatment', () => {
    const holdout = entry({ instanceId: 'i-2', customerId: 'c-2', group: 'holdout' });
    expect(attributeConversions([holdout], [order('e-h', '2027-03-16T00:00:00Z', 'c-2')])).toEqual([
      { instanceId: 'i-2', eventId: 'e-h', convertedAt: new Date('2027-03-16T00:00:00Z') },
    ]);
  });

  it('takes the earliest goal event whatever the arrival order, and never another type or customer', () => {
    const activities: CustomerActivity[] = [
      order('e-later', '2027-03-18T00:00:00Z'),
      {
        eventId: 'e-view',
        customerId: 'c-1',
        type: 'product.viewed',
        occurredAt: new Date('2027-03-15T14:00:00Z'),
      },
      order('e-other', '2027-03-15T14:00:00Z', 'c-9'),
      order('e-b', '2027-03-17T00:00:00Z'),
      order('e-a', '2027-03-17T00:00:00Z'),
    ];
    expect(attributeConversions([entry()], activities)).toEqual([
      { instanceId: 'i-1', eventId: 'e-a', convertedAt: new Date('2027-03-17T00:00:00Z') },
    ]);
  });

  it("never counts the milestone's own cause, which happened at the entry", () => {
    const second = entry({ causeEventId: 'e-cause' });
    const cause = order('e-cause', '2027-03-15T13:00:00Z');
    expect(attributeConversions([second], [cause])).toEqual([]);
    expect(attributeConversions([second], [cause, order('e-next', '2027-03-16T09:00:00Z')])).toEqual([
      { instanceId: 'i-1', eventId: 'e-next', convertedAt: new Date('2027-03-16T09:00:00Z') },
    ]);
  });

  it('never converts an entry of a journey without a goal', () => {
    expect(attributeConversions([entry({ goal: null })], [order('e-1', '2027-03-16T00:00:00Z')])).toEqual([]);
  });
});

describe('orderFiguresOf', () => {
  it('reads the total of an order and the amount of a refund', () => {
    expect(orderFiguresOf('order.placed', { orderId: 'o-1', total: '129.90', currency: 'USD' })).toEqual({
      orderId: 'o-1',
      amount: '129.90',
      currency: 'USD',
    });
    expect(orderFiguresOf('order.refunded', { orderId: 'o-1', amount: '29.90', currency: 'USD' })).toEqual({
      orderId: 'o-1',
      amount: '29.90',
      currency: 'USD',
    });
  });

  it('has no money for other events', () => {
    expect(orderFiguresOf('product.viewed', { sku: 's-1', total: '1.00' })).toEqual({
      orderId: null,
      amount: null,
      currency: null,
    });
  });
});
