import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BenchEnvironment } from './environment';

/** One measured number, as the table prints it and BENCH_OUT stores it. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** This figure divided by the baseline it is compared with (the raw Kafka ceiling for throughputs). */
  ratio?: number;
  /**
   * The machine's 1-minute load average when the case that measured this figure ended: on a
   * shared machine a figure means little without the load it was measured under.
   */
  load?: number;
}

/** What BENCH_OUT holds: later tooling (CI trend charts, targets) reads this shape, so keep it stable. */
export interface BenchReport {
  /** Where the run measured (machine, Kafka, Postgres settings); absent in reports written before it. */
  environment?: BenchEnvironment;
  figures: Figure[];
}

/** The figure with its ratio to an earlier figure of the run (a baseline), when that one was measured. */
export function withRatio(figure: Figure, baseline: Figure | undefined): Figure {
  return baseline && baseline.value !== 0 ? { ...figure, ratio: figure.value / baseline.value } : figure;
}

const COLUMNS = { name: 44, value: 13, unit: 12, ratio: 8 } as const;

/** The figures as a fixed-width table; widths grow with the longest name so later figures still line up. */
export function formatTable(figures: readonly Figure[]): string {
  const nameWidth = Math.max(COLUMNS.name, ...figures.map((figure) => figure.name.length + 2));
  const unitWidth = Math.max(COLUMNS.unit, ...figures.map((figure) => figure.unit.length + 2));
  const row = (name: string, value: string, unit: string, ratio: string, load: string): string =>
    `${name.padEnd(nameWidth)}${value.padEnd(COLUMNS.value)}${unit.padEnd(unitWidth)}${ratio.padEnd(COLUMNS.ratio)}${load}`.trimEnd();
  return [
    row('benchmark', 'value', 'unit', 'ratio', 'load'),
    ...figures.map((figure) =>
      row(
        figure.name,
        formatValue(figure.value),
        figure.unit,
        figure.ratio === undefined ? '' : formatRatio(figure.ratio),
        figure.load === undefined ? '' : figure.load.toFixed(2),
      ),
    ),
  ].join('\n');
}

/** Whole numbers from 100 up (events/s, ms), three significant digits below: what a reader compares by eye. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

function formatRatio(ratio: number): string {
  return ratio >= 0.01 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

/** Rounds for storage: JSON consumers want numbers, not 15 noisy decimals. */
export function toReport(figures: readonly Figure[], environment?: BenchEnvironment): BenchReport {
  return {
    ...(environment === undefined ? {} : { environment }),
    figures: figures.map((figure) => ({
      name: figure.name,
      value: roundTo(figure.value, 3),
      unit: figure.unit,
      ...(figure.ratio === undefined ? {} : { ratio: roundTo(figure.ratio, 4) }),
      ...(figure.load === undefined ? {} : { load: figure.load }),
    })),
  };
}

export async function writeReport(
  path: string,
  figures: readonly Figure[],
  environment?: BenchEnvironment,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(toReport(figures, environment), null, 2)}\n`);
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
