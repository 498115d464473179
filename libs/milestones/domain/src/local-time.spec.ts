import { DateTime } from 'luxon';
import { addDays, localDateOf } from './local-time';

// The fast paths against luxon itself, across zones with odd offsets, DST changes and the
// date line, before and after 1970.
const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'UTC',
];

describe('localDateOf', () => {
  it('gives the date luxon gives, at every hour of several years in every zone', () => {
    const start = Date.parse('1969-12-25T00:00:00Z');
    for (let i = 0; i < 3000; i += 1) {
      // A step of 7h 23m walks through every hour of the day and across midnight in each zone.
      const instant = new Date(start + i * 26_580_000);
      const zone = ZONES[i % ZONES.length] ?? 'UTC';
      const expected = DateTime.fromJSDate(instant, { zone });
      expect(localDateOf(instant, zone)).toEqual({
        year: expected.year,
        month: expected.month,
        day: expected.day,
      });
    }
  });
});

describe('addDays', () => {
  it.each([
    [{ year: 2028, month: 2, day: 28 }, 1, { year: 2028, month: 2, day: 29 }],
    [{ year: 2027, month: 2, day: 28 }, 1, { year: 2027, month: 3, day: 1 }],
    [{ year: 2027, month: 12, day: 31 }, 1, { year: 2028, month: 1, day: 1 }],
    [{ year: 2027, month: 3, day: 1 }, -1, { year: 2027, month: 2, day: 28 }],
    [{ year: 2027, month: 1, day: 10 }, 60, { year: 2027, month: 3, day: 11 }],
    [{ year: 1969, month: 12, day: 31 }, 365, { year: 1970, month: 12, day: 31 }],
  ])('%o plus %i days is %o', (date, days, expected) => {
    expect(addDays(date, days)).toEqual(expected);
  });
});
