/**
 * Money as exact decimals. Totals arrive as decimal strings ("129.90"); adding them as floats
 * would drift, so amounts are held as integers of 1/10000 of a unit (bigint) while computing.
 */
const SCALE = 10_000n;

export function parseMoney(value: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d{1,4}))?$/.exec(value);
  if (!match) throw new Error(`not a decimal amount: "${value}"`);
  const [, sign, whole = '0', fraction = ''] = match;
  const units = BigInt(whole) * SCALE + BigInt(fraction.padEnd(4, '0'));
  return sign ? -units : units;
}

/** Formats with two decimals at least ("129.9" -> "129.90"), more only when present. */
export function formatMoney(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / SCALE;
  let fraction = (abs % SCALE).toString().padStart(4, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}
