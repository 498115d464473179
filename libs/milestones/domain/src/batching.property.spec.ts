import type { CustomerEventV1, CustomerProfileSnapshot } from '@mmp/contracts';
import { isTimedMilestone, type MilestoneDefinition } from '@mmp/program';
import fc from 'fast-check';
import { evaluateCustomerEvents, type MilestoneState } from './evaluate-event';
import { profileOf } from './test-profiles.spec-helper';
import type { TimedInputs } from './timed-milestones';
import { scheduleCustomerEvents, type TimedSlot } from './timed-schedule';

// One customer's history, as the milestones service receives it (arrival order, each event with
// the profile right after it), cut into batches at random: what the service derives from it must
// not depend on the cut, and redelivering the tail of it must change nothing.

const ZONE = 'America/New_York';
const NOW = new Date('2029-09-01T00:00:00Z');
const START = Date.parse('2029-05-01T00:00:00Z');
const MINUTE = 60_000;
const MAX_TRIGGER_AGE_MS = 48 * 60 * MINUTE;

const MILESTONES: MilestoneDefinition[] = [
  { key: 'second_order', kind: 'nth_event', event: 'order.placed', n: 2 },
  { key: 'vip', kind: 'threshold', attribute: 'lifetimeValue', gte: 200, rearm: true },
  { key: 'cart_struggle', kind: 'windowed_count', event: 'cart.abandoned', n: 3, withinDays: 14 },
  { key: 'birthday', kind: 'anniversary', date: 'birthday', at: '09:00' },
  { key: 'signup_anniversary', kind: 'anniversary', date: 'registeredAt', at: '10:00' },
  { key: 'welcome', kind: 'after', date: 'registeredAt', days: 3, at: '10:00' },
  { key: 'lapsed', kind: 'inactivity', event: 'order.placed', days: 10, at: '10:00' },
];
const TIMED = MILESTONES.filter(isTimedMilestone);

interface Step {
  type: 'customer.registered' | 'customer.updated' | 'order.placed' | 'order.refunded' | 'cart.abandoned';
  minute: number;
  lagMinutes: number;
  birthday: string | null;
  timezone: string | null;
  amount: number;
}

const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  type: fc.constantFrom(
    'customer.registered',
    'customer.updated',
    'order.placed',
    'order.refunded',
    'cart.abandoned',
  ),
  // Four months, so birthdays, inactivity spells and windows are crossed; any order of occurrence.
  minute: fc.integer({ min: 0, max: 120 * 24 * 60 }),
  // Mostly on time, sometimes hours late, sometimes too old to trigger.
  lagMinutes: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 600 }),
    fc.integer({ min: 0, max: 4 * 24 * 60 }),
  ),
  birthday: fc.constantFrom('--05-20', '--06-10', '1990-07-01', '--02-29', null),
  timezone: fc.constantFrom('America/New_York', 'Pacific/Auckland', 'Asia/Tokyo', null),
  amount: fc.integer({ min: 1, max: 300 }),
});

/** The events, each carrying the profile after it, built in arrival order as ingestion would. */
function historyOf(steps: readonly Step[]): CustomerEventV1[] {
  let profile: CustomerProfileSnapshot = profileOf();
  let value = 0;
  return steps.map((step, i) => {
    const occurredAt = new Date(START + step.minute * MINUTE).toISOString();
    const receivedAt = new Date(START + (step.minute + step.lagMinutes) * MINUTE).toISOString();
    const traits: Record<string, unknown> = { ...profile.traits };
    const attributes = { ...profile.attributes, eventCounts: { ...profile.attributes.eventCounts } };
    attributes.eventCounts[step.type] = (attributes.eventCounts[step.type] ?? 0) + 1;
    if (step.type === 'customer.registered' || step.type === 'customer.updated') {
      if (step.birthday) traits['birthday'] = step.birthday;
      if (step.timezone) traits['timezone'] = step.timezone;
      if (step.type === 'customer.registered') attributes.registeredAt ??= occurredAt;
    }
    if (step.type === 'order.placed') {
      value += step.amount;
      attributes.lifetimeOrders += 1;
      if (!attributes.lastOrderAt || attributes.lastOrderAt < occurredAt) attributes.lastOrderAt = occurredAt;
    }
    if (step.type === 'order.refunded') value = Math.max(0, value - step.amount);
    attributes.lifetimeValue = value.toFixed(2);
    profile = { customerId: 'c-42', traits, attributes };
    return {
      schemaVersion: 1,
      eventId: `e-${i}`,
      type: step.type,
      occurredAt,
      receivedAt,
      customerId: 'c-42',
      anonymousId: null,
      properties: {},
      triggerable: Date.parse(receivedAt) - Date.parse(occurredAt) <= MAX_TRIGGER_AGE_MS,
      profile,
    };
  });
}

/** What the service keeps per customer between batches. */
interface Derived {
  inputs: TimedInputs | null;
  states: Map<string, MilestoneState>;
  slots: Map<string, TimedSlot>;
  occurrences: string[];
}

/** The milestones service's evaluation, batch after batch, without the database. */
function applyBatches(
  batches: readonly (readonly CustomerEventV1[])[],
  start: Derived,
  appliesFrom: ReadonlyMap<string, Date>,
): Derived {
  let { inputs, states, slots } = start;
  const occurrences = [...start.occurrences];
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const evaluation = evaluateCustomerEvents(MILESTONES, inputs?.profile ?? null, states, batch, NOW);
    for (const { occurrence } of evaluation.reached) {
      occurrences.push(
        `${occurrence.occurrenceId} ${occurrence.causeEventId} ${JSON.stringify(occurrence.context)}`,
      );
    }
    states = new Map([...states, ...evaluation.states]);
    const schedule = scheduleCustomerEvents(TIMED, inputs, slots, batch, appliesFrom, ZONE);
    inputs = schedule.inputs;
    const next = new Map(slots);
    for (const [key, fire] of schedule.fires)
      next.set(key, { fire, handledThrough: slots.get(key)?.handledThrough ?? null });
    slots = next;
  }
  return { inputs, states, slots, occurrences };
}

/** Comparable form: dates as ISO strings, maps as sorted entries. */
function comparable(derived: Derived) {
  return {
    occurrences: derived.occurrences,
    states: [...derived.states].sort(([a], [b]) => a.localeCompare(b)),
    fires: [...derived.slots]
      .map(([key, slot]) => [key, slot.fire && `${slot.fire.occurrence}@${slot.fire.fireAt.toISOString()}`])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
    inputs: derived.inputs && {
      profile: derived.inputs.profile,
      lastEventAt: derived.inputs.lastEventAt,
      scheduledFrom: derived.inputs.scheduledFrom?.toISOString() ?? null,
    },
  };
}

function cut<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let start = 0;
  for (let i = 0; start < items.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    batches.push(items.slice(start, start + size));
    start += size;
  }
  return batches;
}

/** What the schedule held before the history: what the scheduler had handled, when each milestone joined. */
const contextArbitrary = fc.record({
  handledThrough: fc.dictionary(
    fc.constantFrom(...TIMED.map((m) => m.key)),
    fc.integer({ min: 0, max: 120 * 24 * 60 }).map((minute) => new Date(START + minute * MINUTE)),
  ),
  appliesFrom: fc.dictionary(
    fc.constantFrom(...TIMED.map((m) => m.key)),
    fc.integer({ min: 0, max: 60 * 24 * 60 }).map((minute) => new Date(START + minute * MINUTE)),
  ),
});

function startOf(handledThrough: Record<string, Date>): Derived {
  const slots = new Map(
    Object.entries(handledThrough).map(([key, at]): [string, TimedSlot] => [
      key,
      { fire: null, handledThrough: at },
    ]),
  );
  return { inputs: null, states: new Map(), slots, occurrences: [] };
}

describe('one customer history cut into batches', () => {
  it('gives the same occurrences, states, profile and next firings as its events one by one', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        contextArbitrary,
        (steps, sizes, context) => {
          const events = historyOf(steps);
          const appliesFrom = new Map(Object.entries(context.appliesFrom));
          const start = startOf(context.handledThrough);
          const oneByOne = applyBatches(
            events.map((event) => [event]),
            start,
            appliesFrom,
          );
          expect(comparable(applyBatches(cut(events, sizes), start, appliesFrom))).toEqual(
            comparable(oneByOne),
          );
          expect(comparable(applyBatches([events], start, appliesFrom))).toEqual(comparable(oneByOne));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the same profile and next firings when the tail of it is delivered again', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        contextArbitrary,
        (steps, from, sizes, context) => {
          const events = historyOf(steps);
          const appliesFrom = new Map(Object.entries(context.appliesFrom));
          const once = applyBatches(cut(events, sizes), startOf(context.handledThrough), appliesFrom);
          // A consumer that crashed after its commit gets everything from an older offset again,
          // in fetches of other sizes.
          const again = applyBatches(
            cut(events.slice(from % events.length), [...sizes].reverse()),
            once,
            appliesFrom,
          );
          const { fires, inputs } = comparable(again);
          expect({ fires, inputs }).toEqual({
            fires: comparable(once).fires,
            inputs: comparable(once).inputs,
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
