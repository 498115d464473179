import { AppError } from '@mmp/errors';
import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * The small value types of a program file. Each schema carries the message a retailer's engineer
 * reads when a value is wrong, so the messages here are public interface: tests assert them.
 */

/** Milestone and journey keys: they appear in ids, metrics and URLs, so they stay plain. */
export const Key = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,63}$/,
    'must be 1-64 lowercase letters, digits, "_" or "-", starting with a letter (such as "birthday_sequence")',
  );
export type Key = z.infer<typeof Key>;

/** Where a branch goes to leave the journey; no step may take this id. */
export const EXIT = 'exit';

export const StepId = Key.refine((id) => id !== EXIT, {
  message: `"${EXIT}" is reserved for leaving the journey: choose another step id`,
});
export type StepId = z.infer<typeof StepId>;

/** Template names, the keys of the `templates` mapping. */
export const TemplateName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_-]{0,63}$/,
    'must be 1-64 letters, digits, "_" or "-", starting with a letter (such as "birthday_email")',
  );
export type TemplateName = z.infer<typeof TemplateName>;

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A local wall-clock time `HH:MM`, 00:00 to 23:59 (quote it in YAML: `at: "09:00"`). */
export const TimeOfDay = z
  .string({ error: 'must be a time "HH:MM" between 00:00 and 23:59' })
  .regex(TIME_OF_DAY, 'must be a time "HH:MM" between 00:00 and 23:59');
export type TimeOfDay = z.infer<typeof TimeOfDay>;

export interface HourMinute {
  hour: number;
  minute: number;
}

/** `"09:30"` -> `{ hour: 9, minute: 30 }`; throws a validation AppError for anything else. */
export function parseTimeOfDay(value: string): HourMinute {
  const match = TIME_OF_DAY.exec(value);
  if (!match) {
    const message = `"${value}" is not a time "HH:MM" between 00:00 and 23:59`;
    throw AppError.validation(message, [{ path: '', message }]);
  }
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

const DURATION = /^([1-9]\d{0,5})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RULE =
  'must be a duration such as "30m", "12h" or "7d" (a positive whole number of minutes, hours or days)';

function durationMs(value: string): number | undefined {
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const unit = match[2];
  if (unit !== 'm' && unit !== 'h' && unit !== 'd') return undefined;
  return Number(match[1]) * UNIT_MS[unit];
}

/** A duration written `<n>m`, `<n>h` or `<n>d` (minutes, hours, days), n a positive integer. */
export const Duration = z
  .string({ error: DURATION_RULE })
  .refine((value) => durationMs(value) !== undefined, { message: DURATION_RULE });
export type Duration = z.infer<typeof Duration>;

/** `"1d"` -> 86 400 000: a duration in milliseconds. Throws a validation AppError when malformed. */
export function parseDuration(value: string): number {
  const ms = durationMs(value);
  if (ms === undefined) {
    const message = `"${value}" ${DURATION_RULE}`;
    throw AppError.validation(message, [{ path: '', message }]);
  }
  return ms;
}

/** An IANA time-zone name such as `America/New_York` or `UTC`. */
export const Timezone = z
  .string({ error: 'must be an IANA time zone such as "America/New_York" or "UTC"' })
  .refine((zone) => IANAZone.isValidZone(zone), {
    message: 'must be an IANA time zone such as "America/New_York" or "UTC"',
  });
export type Timezone = z.infer<typeof Timezone>;

const POSITIVE_INT = 'must be a positive integer';

/** 1, 2, 3...: counts and day numbers. */
export const PositiveInt = z.int({ error: POSITIVE_INT }).positive({ error: POSITIVE_INT });

/** Some text that may not be empty. */
export const NonEmptyText = z.string().min(1, 'must not be empty');
