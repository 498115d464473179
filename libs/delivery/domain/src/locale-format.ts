import { DateTime } from 'luxon';

/**
 * `{{money offer.amount "EUR"}}`: a decimal string (or number) as money in the customer's
 * locale (`€129.90`, `129,90 €`). A value that is not a number fails the render.
 */
export function formatMoney(amount: unknown, currency: unknown, locale: string): string {
  const value =
    typeof amount === 'number' ? amount : typeof amount === 'string' ? Number(amount) : Number.NaN;
  if (!Number.isFinite(value)) throw new Error(`money: ${String(amount)} is not an amount`);
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new Error(`money: ${String(currency)} is not an ISO 4217 currency`);
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
}

const STYLES = {
  short: DateTime.DATE_SHORT,
  medium: DateTime.DATE_MED,
  long: DateTime.DATE_HUGE,
  datetime: DateTime.DATETIME_MED,
} as const;

/**
 * `{{date customer.birthday "long"}}`: an ISO date or date-time in the customer's locale, and
 * for date-times their time zone (a date-time at 02:00Z is still the previous day in New York).
 * Styles: `short`, `medium` (the default), `long`, `datetime`.
 */
export function formatDate(
  value: unknown,
  style: unknown,
  where: { locale: string; timezone: string },
): string {
  const text = value instanceof Date ? value.toISOString() : value;
  if (typeof text !== 'string') throw new Error(`date: ${String(value)} is not a date`);
  const styleName = typeof style === 'string' && style in STYLES ? style : 'medium';
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const parsed = dateOnly
    ? DateTime.fromISO(text, { zone: 'UTC' })
    : DateTime.fromISO(text, { setZone: true }).setZone(where.timezone);
  if (!parsed.isValid) throw new Error(`date: ${text} is not an ISO date`);
  const format =
    STYLES[styleName === 'short' || styleName === 'long' || styleName === 'datetime' ? styleName : 'medium'];
  return parsed.setLocale(where.locale).toLocaleString(format);
}
