import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { JourneyDefinition } from '@mmp/program';
import { chooseVariant, messageIdOf } from './assignment';
import {
  advance,
  decisionTimeOf,
  enterJourney,
  entryTimeOf,
  exitOnEvent,
  goalWindowOf,
  sinceEntryOf,
  type StepContext,
} from './step-machine';

const profile: CustomerProfileSnapshot = {
  customerId: 'c-42',
  traits: { firstName: 'Ann', country: 'US' },
  attributes: {
    lifetimeOrders: 1,
    lifetimeValue: '10.00',
    currency: 'USD',
    firstOrderAt: null,
    lastOrderAt: null,
    registeredAt: null,
    eventCounts: {},
  },
};

/** The retailer playbook of SPEC section 5. */
const birthday: JourneyDefinition = {
  key: 'birthday_sequence',
  trigger: 'birthday',
  priority: 10,
  holdoutPercent: 0,
  exitOn: ['order.placed'],
  steps: [
    { id: 'celebrate', send: { template: 'birthday_email' } },
    { id: 'pause', wait: { days: 2 } },
    { id: 'check', branch: { if: { eventSinceEntry: 'order.placed' }, then: 'exit' } },
    {
      id: 'nudge',
      send: {
        variants: [
          { template: 'followup_a', weight: 50 },
          { template: 'followup_b', weight: 50 },
        ],
      },
    },
  ],
};

const entered = new Date('2027-03-15T13:00:00Z');
const HOUR = 3_600_000;
/** The customer did `events` an hour after entering, unless told when. */
const context = (now: Date, events: string[] = [], at = new Date(entered.getTime() + HOUR)): StepContext => ({
  now,
  timezone: 'America/New_York',
  eventsSinceEntry: new Map(events.map((type) => [type, at])),
  profile,
});

describe('the step machine', () => {
  const start = () => enterJourney(birthday, { customerId: 'c-42', occurrenceId: 'occ_1' }, entered);

  it('celebrates, then waits two days', () => {
    const { instance, effects } = advance(birthday, start(), context(entered));
    expect(effects).toEqual([
      {
        kind: 'send',
        messageId: messageIdOf(instance.instanceId, 'celebrate'),
        stepId: 'celebrate',
        template: 'birthday_email',
        variant: null,
        suppressedReason: null,
      },
    ]);
    expect(instance).toMatchObject({
      status: 'waiting',
      stepIndex: 1,
      wakeAt: new Date('2027-03-17T13:00:00Z'),
    });
  });

  it('does nothing before the wait is over', () => {
    const waiting = advance(birthday, start(), context(entered)).instance;
    const early = advance(birthday, waiting, context(new Date('2027-03-17T12:59:59Z')));
    expect(early).toEqual({ instance: waiting, effects: [] });
  });

  it('follows up with a stable variant when the customer did not buy', () => {
    const waiting = advance(birthday, start(), context(entered)).instance;
    const { instance, effects } = advance(birthday, waiting, context(new Date('2027-03-17T13:00:00Z')));
    const variant = chooseVariant('c-42', 'birthday_sequence', 'nudge', [
      { template: 'followup_a', weight: 50 },
      { template: 'followup_b', weight: 50 },
    ]).template;
    expect(effects).toEqual([
      {
        kind: 'send',
        messageId: messageIdOf(instance.instanceId, 'nudge'),
        stepId: 'nudge',
        template: variant,
        variant,
        suppressedReason: null,
      },
    ]);
    expect(instance.status).toBe('completed');
  });

  it('exits at the branch when the customer bought during the wait', () => {
    const noExitOn = { ...birthday, exitOn: [] };
    const waiting = advance(noExitOn, start(), context(entered)).instance;
    const { instance, effects } = advance(
      noExitOn,
      waiting,
      context(new Date('2027-03-17T13:00:00Z'), ['order.placed']),
    );
    expect(effects).toEqual([]);
    expect(instance).toMatchObject({ status: 'exited', exitReason: 'branch:check' });
  });

  it('branches on what happened by the branch, not on an order that arrived early but came later', () => {
    const noExitOn = { ...birthday, exitOn: [] };
    const waiting = advance(noExitOn, start(), context(entered)).instance;
    // The timer runs late (in the grace period); an order placed after the branch was due
    // already arrived: the branch is decided at its due time, as a timer on time would have.
    const due = new Date('2027-03-17T13:00:00Z');
    const late = {
      ...context(new Date(due.getTime() + HOUR), ['order.placed'], new Date(due.getTime() + 60_000)),
      graceMs: 6 * HOUR,
    };
    const { instance, effects } = advance(noExitOn, waiting, late);
    expect(effects.map((e) => e.stepId)).toEqual(['nudge']);
    expect(instance.status).toBe('completed');
  });

  it('runs the steps due before an exit event that arrived before their timer fired, then exits', () => {
    const journey: JourneyDefinition = {
      ...birthday,
      steps: [
        { id: 'pause', wait: { hours: 1 } },
        { id: 'first', send: { template: 'birthday_email' } },
        { id: 'pause_again', wait: { hours: 1 } },
        { id: 'second', send: { template: 'birthday_email' } },
      ],
    };
    const waiting = advance(journey, start(), context(entered)).instance;
    const orderAt = new Date(entered.getTime() + 90 * 60_000);
    // The order (90 minutes in) reaches journeys before the one-hour timer fired.
    expect(exitOnEvent(journey, waiting, { type: 'order.placed', occurredAt: orderAt })).toBe(waiting);
    const fired = advance(journey, waiting, {
      ...context(orderAt, ['order.placed'], orderAt),
      graceMs: 6 * HOUR,
    });
    expect(fired.effects.map((e) => e.stepId)).toEqual(['first']);
    expect(fired.instance).toMatchObject({ status: 'exited', exitReason: 'exit_on:order.placed' });
  });

  it('runs the step due as an exit event happens, then exits, and ignores exit events before the entry', () => {
    // An order at the very instant of the entry, known at entry (it arrived first): the entry
    // step still runs, as it would have had the order arrived after the milestone.
    const { instance, effects } = advance(birthday, start(), context(entered, ['order.placed'], entered));
    expect(effects.map((e) => e.stepId)).toEqual(['celebrate']);
    expect(instance).toMatchObject({ status: 'exited', exitReason: 'exit_on:order.placed' });
    const before = new Date(entered.getTime() - 60_000);
    expect(exitOnEvent(birthday, start(), { type: 'order.placed', occurredAt: before })).toEqual(start());
  });

  it('decides a step at its due time within the grace period, and at the run beyond it', () => {
    const due = new Date('2027-03-17T13:00:00Z');
    const grace = 6 * HOUR;
    expect(decisionTimeOf(due, new Date(due.getTime() + grace), grace)).toEqual(due);
    expect(decisionTimeOf(due, new Date(due.getTime() + grace + 1), grace)).toEqual(
      new Date(due.getTime() + grace + 1),
    );
    expect(entryTimeOf(due, new Date(due.getTime() - 1))).toEqual(new Date(due.getTime() - 1));
    // A wait after a late timer is measured from the step's due time, not from the late run.
    const journey: JourneyDefinition = {
      ...birthday,
      steps: [
        { id: 'pause', wait: { hours: 1 } },
        { id: 'pause_again', wait: { hours: 1 } },
      ],
    };
    const waiting = advance(journey, start(), context(entered)).instance;
    const late = advance(journey, waiting, {
      ...context(new Date(entered.getTime() + 3 * HOUR)),
      graceMs: grace,
    });
    expect(late.instance.wakeAt).toEqual(new Date(entered.getTime() + 2 * HOUR));
  });

  it("counts since entry by occurredAt, the earliest of each type, without the trigger's cause", () => {
    const at = (minutes: number) => new Date(entered.getTime() + minutes * 60_000);
    const since = sinceEntryOf({ enteredAt: entered, causeEventId: 'e-cause' }, [
      { eventId: 'e-cause', type: 'order.placed', occurredAt: entered },
      { eventId: 'e-before', type: 'cart.abandoned', occurredAt: at(-1) },
      { eventId: 'e-2', type: 'order.placed', occurredAt: at(30) },
      { eventId: 'e-1', type: 'order.placed', occurredAt: at(10) },
    ]);
    expect(since).toEqual(new Map([['order.placed', at(10)]]));
  });

  it('ends at once on an exitOn event mid-wait and never sends again', () => {
    const waiting = advance(birthday, start(), context(entered)).instance;
    const occurredAt = new Date(entered.getTime() + HOUR);
    const exited = exitOnEvent(birthday, waiting, { type: 'order.placed', occurredAt });
    expect(exited).toMatchObject({ status: 'exited', exitReason: 'exit_on:order.placed', wakeAt: null });
    expect(advance(birthday, exited, context(new Date('2027-03-20T00:00:00Z'))).effects).toEqual([]);
    expect(exitOnEvent(birthday, waiting, { type: 'product.viewed', occurredAt })).toBe(waiting);
  });

  it('puts the holdout through nothing', () => {
    const all = { ...birthday, holdoutPercent: 100 };
    const instance = enterJourney(all, { customerId: 'c-42', occurrenceId: 'occ_1' }, entered);
    expect(instance).toMatchObject({ group: 'holdout', status: 'completed', exitReason: 'holdout' });
    expect(advance(all, instance, context(entered)).effects).toEqual([]);
  });

  it('branches on profile fields', () => {
    const journey: JourneyDefinition = {
      ...birthday,
      steps: [
        { id: 'only_us', branch: { if: { 'traits.country': { eq: 'CA' } }, then: 'canada', else: 'exit' } },
        { id: 'canada', send: { template: 'birthday_email' } },
      ],
    };
    const instance = enterJourney(journey, { customerId: 'c-42', occurrenceId: 'occ_2' }, entered);
    expect(advance(journey, instance, context(entered))).toMatchObject({
      instance: { status: 'exited', exitReason: 'branch:only_us' },
      effects: [],
    });
  });

  it('waits until the next local time, across a daylight-saving change', () => {
    const journey: JourneyDefinition = {
      ...birthday,
      steps: [
        { id: 'morning', wait: { until: '09:00' } },
        { id: 'send', send: { template: 'birthday_email' } },
      ],
    };
    // 2027-03-14 is the spring-forward day in New York: 09:00 EDT is 13:00Z.
    const saturdayNight = new Date('2027-03-14T03:00:00Z'); // 22:00 EST on the 13th
    const instance = enterJourney(journey, { customerId: 'c-42', occurrenceId: 'occ_3' }, saturdayNight);
    expect(advance(journey, instance, context(saturdayNight)).instance.wakeAt).toEqual(
      new Date('2027-03-14T13:00:00Z'),
    );
  });

  it('defers a send in quiet hours durably and runs the same step when the window ends', () => {
    const until = new Date('2027-03-16T12:00:00Z');
    const quiet = { ...context(entered), gateSend: () => ({ kind: 'defer' as const, until }) };
    const deferred = advance(birthday, start(), quiet);
    expect(deferred).toEqual({
      instance: { ...start(), status: 'waiting', stepIndex: 0, wakeAt: until, waitReason: 'quiet_hours' },
      effects: [],
    });
    const woken = advance(birthday, deferred.instance, context(until));
    expect(woken.effects.map((e) => e.stepId)).toEqual(['celebrate']);
    expect(woken.instance).toMatchObject({ status: 'waiting', stepIndex: 1, waitReason: 'wait' });
  });

  it('records a suppressed send and carries on to the next step', () => {
    const capped = {
      ...context(entered),
      gateSend: () => ({ kind: 'suppress' as const, reason: 'frequency_cap' as const }),
    };
    const { instance, effects } = advance(birthday, start(), capped);
    expect(effects).toEqual([
      expect.objectContaining({ stepId: 'celebrate', suppressedReason: 'frequency_cap' }),
    ]);
    expect(instance).toMatchObject({ status: 'waiting', stepIndex: 1 });
  });

  it('gives the goal window in calendar days of the customer zone', () => {
    const journey = { ...birthday, goal: { event: 'order.placed', withinDays: 7 } };
    // Entered 09:00 EST on 2027-03-10; seven local days later is 09:00 EDT, across the spring change.
    expect(goalWindowOf(journey, new Date('2027-03-10T14:00:00Z'), 'America/New_York')).toEqual({
      event: 'order.placed',
      endsAt: new Date('2027-03-17T13:00:00Z'),
    });
    expect(goalWindowOf(birthday, entered, 'America/New_York')).toBeNull();
  });
});
