import { isValidTimeZone, type CustomerProfileSnapshot } from '@mmp/contracts';
import { parseTimeOfDay } from '@mmp/program';
import { DateTime } from 'luxon';

/** A calendar date with no zone: a birthday, or the local date of an instant. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The customer's own zone when the profile names a valid one, otherwise the program's default. */
export function zoneOf(profile: CustomerProfileSnapshot, defaultZone: string): string {
  const timezone = profile.traits['timezone'];
  return typeof timezone === 'string' && isValidTimeZone(timezone) ? timezone : defaultZone;
}

/**
 * The instant at which the wall clock in `zone` shows `at` on `date`. A time skipped by a
 * spring-forward change moves forward by the gap (02:30 -> 03:30), and a time repeated by a
 * fall-back change resolves to one of its two instants: either way exactly one instant, so a
 * schedule built on it fires once.
 */
export function localInstant(date: LocalDate, at: string, zone: string): Date {
  const key = `${zone}|${date.year}-${date.month}-${date.day}|${at}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    const { hour, minute } = parseTimeOfDay(at);
    instant = DateTime.fromObject({ ...date, hour, minute }, { zone }).toMillis();
    // Scheduling a million customers meets only a few thousand (zone, day, time) triples.
    if (instants.size >= MAX_CACHED_INSTANTS) instants.clear();
    instants.set(key, instant);
  }
  return new Date(instant);
}

/** Resolved local times, by zone, date and time: a pure function's results, kept to save luxon calls. */
const instants = new Map<string, number>();
const MAX_CACHED_INSTANTS = 200_000;

/**
 * The date the wall clock in `zone` shows at `instant`, read from the platform's time zone
 * database (as luxon does) through one formatter per zone: every customer event asks this for
 * each time-based milestone, and a luxon DateTime per call cost ten times as much.
 */
export function localDateOf(instant: Date, zone: string): LocalDate {
  let format = dateFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      era: 'short',
    });
    if (dateFormats.size >= MAX_CACHED_FORMATS) dateFormats.clear();
    dateFormats.set(zone, format);
  }
  const parts = { year: 0, month: 0, day: 0, bc: false };
  for (const part of format.formatToParts(instant)) {
    if (part.type === 'year') parts.year = Number(part.value);
    else if (part.type === 'month') parts.month = Number(part.value);
    else if (part.type === 'day') parts.day = Number(part.value);
    else if (part.type === 'era') parts.bc = part.value === 'BC';
  }
  return { year: parts.bc ? 1 - parts.year : parts.year, month: parts.month, day: parts.day };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED_FORMATS = 1_000;

/** `date` moved by `days` calendar days: calendar arithmetic, no zone involved. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(0);
  moved.setUTCFullYear(date.year, date.month - 1, date.day + days);
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** How many days `month` (1-12) has in `year`: calendar arithmetic, no zone involved. */
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The month and day of `date` in `year`; 29 February falls on 28 February in common years. */
export function sameDayIn(year: number, month: number, day: number): LocalDate {
  return { year, month, day: Math.min(day, daysInMonth(year, month)) };
}

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_DAY = /^--(\d{2})-(\d{2})$/;

/** A birthday trait: `YYYY-MM-DD` (year known) or `--MM-DD` (year withheld); anything else is none. */
export function parseBirthday(value: unknown): { year: number | null; month: number; day: number } | null {
  if (typeof value !== 'string') return null;
  const full = FULL_DATE.exec(value);
  const parts = full ? full.slice(1) : MONTH_DAY.exec(value)?.slice(1);
  if (!parts) return null;
  const year = full ? Number(parts[0]) : null;
  const month = Number(full ? parts[1] : parts[0]);
  const day = Number(full ? parts[2] : parts[1]);
  // Checked against a leap year when the year is withheld, so that --02-29 is a valid birthday.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year ?? 2000, month)) return null;
  return { year, month, day };
}
