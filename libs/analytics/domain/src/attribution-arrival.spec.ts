import fc from 'fast-check';
import {
  attributeConversions,
  withinGoalWindow,
  type CustomerActivity,
  type JourneyEntry,
} from './attribution';

/**
 * Conversions do not depend on delivery (issue 13): entries (journeys.entries.v1) and customer
 * activity (customer.events.v1) come on two topics, in any interleaving, any batches, with
 * redeliveries; the model is AttributeConversionsUseCase over its tables (each id once, a
 * conversion recorded once per entry). Who converted, per group, is the same as with everything
 * at once; only which goal event is named can differ, when an earlier one arrives after the
 * conversion was recorded (README: the conversion names the goal event known first).
 */

const HOUR = 3_600_000;
const START = Date.parse('2027-03-15T13:00:00Z');
const CUSTOMERS = ['c-1', 'c-2', 'c-3'];

const entryArbitrary = fc.record({
  customerId: fc.constantFrom(...CUSTOMERS),
  group: fc.constantFrom('treatment' as const, 'holdout' as const),
  enteredHour: fc.integer({ min: 0, max: 48 }),
  windowHours: fc.integer({ min: 0, max: 72 }),
  goal: fc.constantFrom('order.placed', 'product.viewed', null),
});
const activityArbitrary = fc.record({
  customerId: fc.constantFrom(...CUSTOMERS),
  type: fc.constantFrom('order.placed', 'product.viewed', 'cart.abandoned'),
  hour: fc.integer({ min: -5, max: 130 }),
});

type Arrival = { kind: 'entry'; entry: JourneyEntry } | { kind: 'activity'; activity: CustomerActivity };

const historyArbitrary = fc
  .record({
    entries: fc.array(entryArbitrary, { maxLength: 8 }),
    activities: fc.array(activityArbitrary, { maxLength: 15 }),
  })
  .map(({ entries, activities }): Arrival[] => [
    ...entries.map((e, i): Arrival => {
      const enteredAt = new Date(START + e.enteredHour * HOUR);
      return {
        kind: 'entry',
        entry: {
          instanceId: `i-${i}`,
          journeyKey: 'j',
          customerId: e.customerId,
          group: e.group,
          enteredAt,
          goal: e.goal
            ? { event: e.goal, windowEndsAt: new Date(enteredAt.getTime() + e.windowHours * HOUR) }
            : null,
        },
      };
    }),
    ...activities.map((a, i): Arrival => ({
      kind: 'activity',
      activity: {
        eventId: `e-${i}`,
        customerId: a.customerId,
        type: a.type,
        occurredAt: new Date(START + a.hour * HOUR),
      },
    })),
  ]);

/** The use case's tables and its step per batch: record, then convert the pending entries of its customers. */
function attributeInBatches(
  batches: readonly (readonly Arrival[])[],
): Map<string, { group: string; at: Date }> {
  const entries = new Map<string, JourneyEntry>();
  const activity = new Map<string, CustomerActivity>();
  const conversions = new Map<string, { group: string; at: Date }>();
  for (const batch of batches) {
    for (const arrival of batch) {
      if (arrival.kind === 'entry' && !entries.has(arrival.entry.instanceId))
        entries.set(arrival.entry.instanceId, arrival.entry);
      if (arrival.kind === 'activity' && !activity.has(arrival.activity.eventId))
        activity.set(arrival.activity.eventId, arrival.activity);
    }
    const customers = new Set(batch.map((a) => (a.kind === 'entry' ? a.entry : a.activity).customerId));
    const pending = [...entries.values()].filter(
      (e) => customers.has(e.customerId) && !conversions.has(e.instanceId),
    );
    for (const found of attributeConversions(pending, [...activity.values()])) {
      const entry = entries.get(found.instanceId);
      if (entry && !conversions.has(found.instanceId))
        conversions.set(found.instanceId, { group: entry.group, at: found.convertedAt });
    }
  }
  return conversions;
}

describe('conversions, however entries and activity arrive', () => {
  it('converts the same entries, per group, in any interleaving, batching and redelivery', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        (history, choices) => {
          let next = 0;
          const choose = (n: number): number => (choices[next++ % choices.length] ?? 0) % n;
          // Shuffle (the two topics in any order), redeliver some, and cut into batches.
          const arrivals = [...history];
          for (let i = arrivals.length - 1; i > 0; i--) {
            const j = choose(i + 1);
            [arrivals[i], arrivals[j]] = [arrivals[j] as Arrival, arrivals[i] as Arrival];
          }
          const redelivered = arrivals.flatMap((a) => (choose(4) === 0 ? [a, a] : [a]));
          const batches: Arrival[][] = [];
          for (let i = 0; i < redelivered.length;) {
            const size = 1 + choose(5);
            batches.push(redelivered.slice(i, i + size));
            i += size;
          }
          const delivered = attributeInBatches(batches);
          const oracle = attributeInBatches([history]);
          const who = (c: Map<string, { group: string }>) =>
            [...c].map(([id, { group }]) => `${id}:${group}`).sort();
          expect(who(delivered)).toEqual(who(oracle));
          // Each conversion names a goal event within its entry's window.
          for (const [id, { at }] of delivered) {
            const entry = history.find((a) => a.kind === 'entry' && a.entry.instanceId === id);
            expect(entry?.kind === 'entry' && withinGoalWindow(entry.entry, at)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
