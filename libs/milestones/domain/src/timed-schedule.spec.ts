import type { CustomerEventV1 } from '@mmp/contracts';
import type { AfterMilestone, AnniversaryMilestone, InactivityMilestone } from '@mmp/program';
import { decideDue } from './missed-fire';
import { birthday, eventOf, lapsed, profileOf, welcome } from './test-profiles.spec-helper';
import type { ScheduledFire, TimedInputs } from './timed-milestones';
import { scheduleAnchorOf, scheduleCustomerEvents, type TimedSlot } from './timed-schedule';

// The case: a customer in New York registers on 9 June with their birthday on 10 June;
// 09:00 there is 13:00 UTC. Every expectation is an absolute instant (see timed-milestones.spec).

const ZONE = 'America/New_York';
const GRACE_MS = 6 * 3_600_000;

function registration(occurredAt: string, receivedAt = occurredAt, triggerable = true): CustomerEventV1 {
  return {
    ...eventOf(
      'reg-1',
      'customer.registered',
      occurredAt,
      profileOf({ birthday: '--06-10' }, { registeredAt: occurredAt }),
      triggerable,
    ),
    receivedAt,
  };
}

function order(eventId: string, occurredAt: string): CustomerEventV1 {
  return eventOf(eventId, 'order.placed', occurredAt, profileOf({}, { lastOrderAt: occurredAt }));
}

function scheduled(
  milestone: AnniversaryMilestone | AfterMilestone | InactivityMilestone,
  events: readonly CustomerEventV1[],
  options: { previous?: TimedInputs | null; slot?: TimedSlot; appliesFrom?: string } = {},
) {
  const result = scheduleCustomerEvents(
    [milestone],
    options.previous ?? null,
    new Map(options.slot ? [[milestone.key, options.slot]] : []),
    events,
    new Map(options.appliesFrom ? [[milestone.key, new Date(options.appliesFrom)]] : []),
    ZONE,
  );
  return { inputs: result.inputs, fire: result.fires.get(milestone.key) ?? null };
}

const iso = (fire: ScheduledFire | null) => fire && `${fire.occurrence}@${fire.fireAt.toISOString()}`;

describe('the moment an event schedules from', () => {
  it.each([
    ['when it occurred', '2029-06-09T12:00:00Z', '2029-06-09T12:00:05Z', true, '2029-06-09T12:00:00.000Z'],
    [
      'never after its arrival (a client clock running ahead)',
      '2029-06-09T15:00:00Z',
      '2029-06-09T12:00:00Z',
      true,
      '2029-06-09T12:00:00.000Z',
    ],
    [
      'its arrival when it is too old to trigger (a historical import)',
      '2027-01-01T00:00:00Z',
      '2029-06-09T12:00:00Z',
      false,
      '2029-06-09T12:00:00.000Z',
    ],
  ])('is %s', (_case, occurredAt, receivedAt, triggerable, anchor) => {
    expect(scheduleAnchorOf({ occurredAt, receivedAt, triggerable }).toISOString()).toBe(anchor);
  });
});

describe('a registration processed late', () => {
  // Nothing here knows when the event is processed: the firing is the same for any lag.
  const { inputs, fire } = scheduled(birthday, [registration('2029-06-09T12:00:00Z')]);

  it('schedules the birthday the day after it occurred, already due when processed after 09:00', () => {
    expect(iso(fire)).toBe('2029@2029-06-10T13:00:00.000Z');
  });

  it.each([
    ['five minutes late: fires late', '2029-06-10T13:05:00Z', { fired: '2029', missed: false }],
    ['just within the grace period: fires late', '2029-06-10T19:00:00Z', { fired: '2029', missed: false }],
    [
      'beyond the grace period: counted missed, not sent',
      '2029-06-10T19:00:01Z',
      { fired: null, missed: true },
    ],
  ])('%s', (_case, now, expected) => {
    if (!fire) throw new Error('nothing scheduled');
    const decision = decideDue(
      birthday,
      fire,
      { handledThrough: null },
      inputs,
      ZONE,
      new Date(now),
      GRACE_MS,
    );
    expect({ fired: decision.fire?.occurrence ?? null, missed: decision.missed }).toEqual(expected);
    expect(decision.stale).toBe(false);
    expect(decision.handledThrough?.toISOString()).toBe('2029-06-10T13:00:00.000Z');
    expect(iso(decision.next)).toBe('2030@2030-06-10T13:00:00.000Z');
  });

  it('waits for next year when the registration itself occurred after 09:00 on the day: nothing missed', () => {
    const after = scheduled(birthday, [registration('2029-06-10T13:05:00Z')]);
    expect(iso(after.fire)).toBe('2030@2030-06-10T13:00:00.000Z');
  });
});

describe('an event too old to trigger', () => {
  it('schedules from its arrival: no missed birthdays of the years it predates', () => {
    const { fire } = scheduled(birthday, [
      registration('2027-01-01T00:00:00Z', '2029-06-09T12:00:00Z', false),
    ]);
    expect(iso(fire)).toBe('2029@2029-06-10T13:00:00.000Z');
  });

  it('schedules no `after` moment it predates, though its registeredAt is old', () => {
    const { fire } = scheduled(welcome, [
      registration('2029-01-01T12:00:00Z', '2029-06-09T12:00:00Z', false),
    ]);
    expect(fire).toBeNull();
  });
});

describe('what was handled', () => {
  it('is not produced again by a later event that occurred before it', () => {
    // 2029 was fired at 13:00; an update that occurred at 12:30 arrives after that.
    const first = scheduled(birthday, [registration('2029-06-09T12:00:00Z')]);
    const update = eventOf(
      'upd-1',
      'customer.updated',
      '2029-06-10T12:30:00Z',
      profileOf({ birthday: '--06-10', firstName: 'Ann' }),
    );
    const { fire } = scheduled(birthday, [update], {
      previous: first.inputs,
      slot: { fire: null, handledThrough: new Date('2029-06-10T13:00:00Z') },
    });
    expect(iso(fire)).toBe('2030@2030-06-10T13:00:00.000Z');
  });

  it('is not counted missed twice', () => {
    // Missed at 20:00 (beyond 6 h of grace); the same registration is redelivered later.
    const first = scheduled(birthday, [registration('2029-06-09T12:00:00Z')]);
    const handled: TimedSlot = { fire: null, handledThrough: new Date('2029-06-10T13:00:00Z') };
    const { fire } = scheduled(birthday, [registration('2029-06-09T12:00:00Z')], {
      previous: first.inputs,
      slot: handled,
    });
    expect(iso(fire)).toBe('2030@2030-06-10T13:00:00.000Z');
  });
});

describe('a firing due before the event that follows it', () => {
  const spell = {
    fireAt: new Date('2029-08-08T14:00:00Z'),
    occurrence: '2029-06-09T12:00:00.000Z',
    context: { days: 60 },
  };
  const before = scheduled(lapsed, [order('o-1', '2029-06-09T12:00:00Z')]);

  it('is the spell the first order starts', () => {
    expect(iso(before.fire)).toBe(iso(spell));
  });

  it('stays when the customer came back after it was due, and still fires (late, within grace)', () => {
    const after = scheduled(lapsed, [order('o-2', '2029-08-08T15:00:00Z')], {
      previous: before.inputs,
      slot: { fire: spell, handledThrough: null },
    });
    expect(iso(after.fire)).toBe(iso(spell));
    const decision = decideDue(
      lapsed,
      spell,
      { handledThrough: null },
      after.inputs,
      ZONE,
      new Date('2029-08-08T16:00:00Z'),
      GRACE_MS,
    );
    expect({ fired: decision.fire?.occurrence, stale: decision.stale }).toEqual({
      fired: spell.occurrence,
      stale: false,
    });
    // The next spell starts at the order that ended this one.
    expect(decision.next?.occurrence).toBe('2029-08-08T15:00:00.000Z');
  });

  it('is re-armed when the customer came back before it was due, whenever that is processed', () => {
    const after = scheduled(lapsed, [order('o-2', '2029-08-08T13:00:00Z')], {
      previous: before.inputs,
      slot: { fire: spell, handledThrough: null },
    });
    expect(after.fire?.occurrence).toBe('2029-08-08T13:00:00.000Z');
  });

  it('is the same from one batch as from its events one by one', () => {
    // The birthday passes between the two events: the second one must not move it a year on.
    const events = [registration('2029-06-10T12:00:00Z'), order('o-1', '2029-06-10T14:00:00Z')];
    const together = scheduled(birthday, events);
    const first = scheduled(birthday, events.slice(0, 1));
    const apart = scheduled(birthday, events.slice(1), {
      previous: first.inputs,
      slot: { fire: first.fire, handledThrough: null },
    });
    expect(iso(together.fire)).toBe('2029@2029-06-10T13:00:00.000Z');
    expect(iso(apart.fire)).toBe(iso(together.fire));
  });
});

describe('a milestone added to the program later', () => {
  it('applies from then on, also for a late event that occurred before it was added', () => {
    const { fire } = scheduled(birthday, [registration('2029-06-09T12:00:00Z')], {
      appliesFrom: '2029-06-10T15:00:00Z',
    });
    expect(iso(fire)).toBe('2030@2030-06-10T13:00:00.000Z');
  });
});
