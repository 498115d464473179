import { AppError } from '@mmp/errors';
import { parseDuration, parseTimeOfDay } from './primitives';

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['1h', 3_600_000],
    ['12h', 12 * 3_600_000],
    ['1d', 86_400_000],
    ['7d', 7 * 86_400_000],
  ])('reads %s as %d milliseconds', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0d', '1', 'd', '1w', '1.5h', '-1d', ' 1d', '1 d', '1D', '01d'])(
    'rejects %j with a validation error that states the rule',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        new AppError(
          'validation_failed',
          `"${text}" must be a duration such as "30m", "12h" or "7d" (a positive whole number of minutes, hours or days)`,
        ),
      );
    },
  );
});

describe('parseTimeOfDay', () => {
  it.each([
    ['00:00', 0, 0],
    ['09:30', 9, 30],
    ['23:59', 23, 59],
  ])('reads %s as hour %d, minute %d', (text, hour, minute) => {
    expect(parseTimeOfDay(text)).toEqual({ hour, minute });
  });

  it.each(['24:00', '9:00', '12:60', '12:5', 'noon', ''])('rejects %j', (text) => {
    expect(() => parseTimeOfDay(text)).toThrow(`"${text}" is not a time "HH:MM" between 00:00 and 23:59`);
  });
});
