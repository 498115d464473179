import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { JourneyDefinition } from '@mmp/program';
import { chooseVariant, messageIdOf } from './assignment';
import { advance, enterJourney, exitOnEvent, goalWindowOf, type StepContext } from './step-machine';

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
const context = (now: Date, events: string[] = []): StepContext => ({
  now,
  timezone: 'America/New_York',
  eventsSinceEntry: new Set(events),
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
    const waiting = advance(birthday, start(), context(entered)).instance;
    const { instance, effects } = advance(
      birthday,
      waiting,
      context(new Date('2027-03-17T13:00:00Z'), ['order.placed']),
    );
    expect(effects).toEqual([]);
    expect(instance).toMatchObject({ status: 'exited', exitReason: 'branch:check' });
  });

  it('ends at once on an exitOn event mid-wait and never sends again', () => {
    const waiting = advance(birthday, start(), context(entered)).instance;
    const exited = exitOnEvent(birthday, waiting, 'order.placed');
    expect(exited).toMatchObject({ status: 'exited', exitReason: 'exit_on:order.placed', wakeAt: null });
    expect(advance(birthday, exited, context(new Date('2027-03-20T00:00:00Z'))).effects).toEqual([]);
    expect(exitOnEvent(birthday, waiting, 'product.viewed')).toBe(waiting);
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
