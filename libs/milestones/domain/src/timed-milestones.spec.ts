import type { AnniversaryMilestone, TimedMilestone } from '@mmp/program';
import { decideDue } from './missed-fire';
import { birthday, firstOrder, lapsed, profileOf, signup, welcome } from './test-profiles.spec-helper';
import { nextFire, type TimedInputs } from './timed-milestones';

// These specs must hold whatever the process's own zone is: `npm run test:unit:tz` reruns them
// under Pacific/Auckland. Every expectation is an absolute instant.

const inputs = (
  traits: Record<string, unknown>,
  attributes = {},
  lastEventAt: Record<string, string> = {},
  scheduledFrom: string | null = null,
): TimedInputs => ({
  profile: profileOf(traits, attributes),
  lastEventAt,
  scheduledFrom: scheduledFrom === null ? null : new Date(scheduledFrom),
});

function next(milestone: TimedMilestone, given: TimedInputs, after: string, zone = 'America/New_York') {
  const fire = nextFire(milestone, given, zone, new Date(after));
  return fire && { fireAt: fire.fireAt.toISOString(), occurrence: fire.occurrence, context: fire.context };
}

describe('anniversary', () => {
  it.each([
    [
      'a birthday with a year, at 09:00 New York (EST)',
      { birthday: '1990-01-20' },
      '2027-01-01T00:00:00Z',
      '2027-01-20T14:00:00.000Z',
      '2027',
      { years: 37 },
    ],
    [
      'a birthday without a year has no years',
      { birthday: '--07-04' },
      '2027-01-01T00:00:00Z',
      '2027-07-04T13:00:00.000Z',
      '2027',
      {},
    ],
    [
      'the birthday already passed this year moves to next year',
      { birthday: '--01-20' },
      '2027-01-20T14:00:00Z',
      '2028-01-20T14:00:00.000Z',
      '2028',
      {},
    ],
    [
      '29 February falls on 28 February in a common year',
      { birthday: '2000-02-29' },
      '2027-01-01T00:00:00Z',
      '2027-02-28T14:00:00.000Z',
      '2027',
      { years: 27 },
    ],
    [
      '29 February stays on 29 February in a leap year',
      { birthday: '2000-02-29' },
      '2028-01-01T00:00:00Z',
      '2028-02-29T14:00:00.000Z',
      '2028',
      { years: 28 },
    ],
    [
      'the customer zone wins over the default',
      { birthday: '--06-01', timezone: 'Europe/Paris' },
      '2027-01-01T00:00:00Z',
      '2027-06-01T07:00:00.000Z',
      '2027',
      {},
    ],
    [
      'an invalid customer zone falls back to the default',
      { birthday: '--06-01', timezone: 'Mars/Olympus' },
      '2027-01-01T00:00:00Z',
      '2027-06-01T13:00:00.000Z',
      '2027',
      {},
    ],
    [
      'Pacific/Kiritimati (+14) fires the day before in UTC',
      { birthday: '--01-01', timezone: 'Pacific/Kiritimati' },
      '2026-12-01T00:00:00Z',
      '2026-12-31T19:00:00.000Z',
      '2027',
      {},
    ],
    [
      'Pacific/Pago_Pago (-11) fires 11 hours after UTC 09:00',
      { birthday: '--12-31', timezone: 'Pacific/Pago_Pago' },
      '2027-12-01T00:00:00Z',
      '2027-12-31T20:00:00.000Z',
      '2027',
      {},
    ],
    [
      'on UTC New Year, Pago_Pago is still in the old year: its 1 January is 20 hours later',
      { birthday: '--01-01', timezone: 'Pacific/Pago_Pago' },
      '2031-01-01T05:00:00Z',
      '2031-01-01T20:00:00.000Z',
      '2031',
      {},
    ],
    [
      'on UTC 31 December, Kiritimati is already in the new year',
      { birthday: '--01-01', timezone: 'Pacific/Kiritimati' },
      '2030-12-31T12:00:00Z',
      '2030-12-31T19:00:00.000Z',
      '2031',
      {},
    ],
    [
      'a birthday in its own birth year is not an anniversary',
      { birthday: '2027-05-01' },
      '2027-01-01T00:00:00Z',
      '2028-05-01T13:00:00.000Z',
      '2028',
      { years: 1 },
    ],
  ])('%s', (_case, traits, after, fireAt, occurrence, context) => {
    expect(next(birthday, inputs(traits), after)).toEqual({ fireAt, occurrence, context });
  });

  it.each([
    [
      'a spring-forward day: 02:30 does not exist and fires once at 03:30 EDT',
      '--03-14',
      '2027-03-14T07:30:00.000Z',
    ],
    ['a fall-back day: 01:30 happens twice and fires once', '--11-07', '2027-11-07T06:30:00.000Z'],
  ])('%s', (_case, day, fireAt) => {
    const early: AnniversaryMilestone = { ...birthday, at: day === '--03-14' ? '02:30' : '01:30' };
    const first = nextFire(
      early,
      inputs({ birthday: day }),
      'America/New_York',
      new Date('2027-01-01T00:00:00Z'),
    );
    expect(first?.fireAt.toISOString()).toBe(fireAt);
    // The next firing after that one is a year later: never a second one on the same day.
    const second = first && nextFire(early, inputs({ birthday: day }), 'America/New_York', first.fireAt);
    expect(second?.occurrence).toBe('2028');
  });

  it.each([
    [
      'registeredAt starts at the first anniversary',
      signup,
      { registeredAt: '2026-05-10T15:00:00Z' },
      '2026-05-11T00:00:00Z',
      '2027-05-10T14:00:00.000Z',
      { years: 1 },
    ],
    [
      'registeredAt counts the local date it fell on',
      signup,
      { registeredAt: '2026-05-11T02:00:00Z' },
      '2026-06-01T00:00:00Z',
      '2027-05-10T14:00:00.000Z',
      { years: 1 },
    ],
    [
      'firstOrderAt in a later year counts years',
      firstOrder,
      { firstOrderAt: '2024-08-02T12:00:00Z' },
      '2027-01-01T00:00:00Z',
      '2027-08-02T14:00:00.000Z',
      { years: 3 },
    ],
  ])('%s', (_case, milestone, attributes, after, fireAt, context) => {
    expect(next(milestone, inputs({}, attributes), after)).toMatchObject({ fireAt, context });
  });

  it('has nothing to schedule without the date', () => {
    expect(next(birthday, inputs({ birthday: 'not-a-date' }), '2027-01-01T00:00:00Z')).toBeNull();
    expect(next(signup, inputs({}), '2027-01-01T00:00:00Z')).toBeNull();
  });
});

describe('after', () => {
  it.each([
    [
      'fires once, days after the date at the local time',
      { registeredAt: '2027-03-01T12:00:00Z' },
      '2027-03-01T12:00:00Z',
      { fireAt: '2027-03-31T14:00:00.000Z', occurrence: '1', context: { days: 30 } },
    ],
    [
      'is nothing once that moment has passed (no retroactive firing)',
      { registeredAt: '2027-01-01T12:00:00Z' },
      '2027-03-01T00:00:00Z',
      null,
    ],
    ['is nothing without the date', {}, '2027-03-01T00:00:00Z', null],
  ])('%s', (_case, attributes, after, expected) => {
    expect(next(welcome, inputs({}, attributes), after)).toEqual(expected);
  });
});

describe('inactivity', () => {
  it.each([
    [
      'fires days after the last such event, named by it',
      {},
      { 'order.placed': '2027-01-10T15:00:00Z' },
      { fireAt: '2027-03-11T15:00:00.000Z', occurrence: '2027-01-10T15:00:00.000Z', context: { days: 60 } },
    ],
    [
      'a newer event re-arms it later, as a new occurrence',
      {},
      { 'order.placed': '2027-02-01T15:00:00Z' },
      { fireAt: '2027-04-02T14:00:00.000Z', occurrence: '2027-02-01T15:00:00.000Z', context: { days: 60 } },
    ],
    [
      'falls back to lastOrderAt for orders',
      { lastOrderAt: '2027-01-10T15:00:00Z' },
      {},
      { fireAt: '2027-03-11T15:00:00.000Z', occurrence: '2027-01-10T15:00:00.000Z', context: { days: 60 } },
    ],
    ['is nothing without such an event', {}, {}, null],
  ])('%s', (_case, attributes, lastEventAt, expected) => {
    expect(next(lapsed, inputs({}, attributes, lastEventAt), '2027-01-15T00:00:00Z')).toEqual(expected);
  });
});

describe('a timezone or birthday change', () => {
  it('moves the next firing', () => {
    const before = next(birthday, inputs({ birthday: '--06-01' }), '2027-01-01T00:00:00Z');
    const moved = next(
      birthday,
      inputs({ birthday: '--06-01', timezone: 'Asia/Tokyo' }),
      '2027-01-01T00:00:00Z',
    );
    const changed = next(birthday, inputs({ birthday: '--06-02' }), '2027-01-01T00:00:00Z');
    expect([before?.fireAt, moved?.fireAt, changed?.fireAt]).toEqual([
      '2027-06-01T13:00:00.000Z',
      '2027-06-01T00:00:00.000Z',
      '2027-06-02T13:00:00.000Z',
    ]);
  });
});

describe('decideDue', () => {
  const grace = 6 * 3_600_000;
  const given = inputs({ birthday: '1990-06-01', country: 'US' });
  const due = { fireAt: new Date('2027-06-01T13:00:00Z'), occurrence: '2027', context: { years: 37 } };
  const unhandled = { handledThrough: null };

  it.each([
    [
      'on time: fires, and schedules next year',
      '2027-06-01T13:00:05Z',
      birthday,
      { fire: '2027', missed: false, next: '2028' },
    ],
    [
      'late within the grace period: still fires',
      '2027-06-01T18:59:00Z',
      birthday,
      { fire: '2027', missed: false, next: '2028' },
    ],
    [
      'missed by more than the grace period: skipped, counted, not sent late',
      '2027-06-01T19:00:01Z',
      birthday,
      { fire: null, missed: true, next: '2028' },
    ],
    [
      'years late (the sandbox clock jumped): skips to the first firing still worth sending',
      '2030-01-01T00:00:00Z',
      birthday,
      { fire: null, missed: true, next: '2030' },
    ],
    [
      'where not met: neither fired nor missed',
      '2027-06-01T13:00:05Z',
      { ...birthday, where: { 'traits.country': { eq: 'CA' } } },
      { fire: null, missed: false, next: '2028' },
    ],
  ])('%s', (_case, now, milestone, expected) => {
    const decision = decideDue(milestone, due, unhandled, given, 'America/New_York', new Date(now), grace);
    expect({
      fire: decision.fire?.occurrence ?? null,
      missed: decision.missed,
      next: decision.next?.occurrence ?? null,
    }).toEqual(expected);
    expect(decision.stale).toBe(false);
  });

  it('reschedules without firing an entry the profile no longer produces', () => {
    const moved = inputs({ birthday: '1990-06-03' });
    const decision = decideDue(
      birthday,
      due,
      unhandled,
      moved,
      'America/New_York',
      new Date('2027-06-01T13:00:05Z'),
      grace,
    );
    expect(decision).toMatchObject({ fire: null, missed: false, stale: true });
    expect(decision.next?.fireAt.toISOString()).toBe('2027-06-03T13:00:00.000Z');
  });

  it('does not fire an inactivity that a newer event re-armed', () => {
    const lapsedDue = {
      fireAt: new Date('2027-03-11T15:00:00Z'),
      occurrence: '2027-01-10T15:00:00.000Z',
      context: { days: 60 },
    };
    const rearmed = inputs({}, {}, { 'order.placed': '2027-03-10T15:00:00Z' });
    const decision = decideDue(
      lapsed,
      lapsedDue,
      unhandled,
      rearmed,
      'America/New_York',
      new Date('2027-03-11T15:00:01Z'),
      grace,
    );
    expect(decision).toMatchObject({ fire: null, stale: true });
    expect(decision.next?.occurrence).toBe('2027-03-10T15:00:00.000Z');
  });
});
