import { build, type Histogram } from 'hdr-histogram-js';

/**
 * Latencies in an HDR histogram at microsecond resolution with 3 significant digits: exact
 * enough for p99 of millisecond latencies, constant memory whatever the number of samples.
 */
export class LatencyRecorder {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10 * 60 * 1_000_000,
    numberOfSignificantValueDigits: 3,
  });

  record(milliseconds: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(milliseconds * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): string {
    if (this.count === 0) return 'no latencies';
    const ms = (p: number) => `${this.percentileMs(p).toFixed(0)} ms`;
    return `latency p50 ${ms(50)}, p90 ${ms(90)}, p99 ${ms(99)}, max ${(this.histogram.maxValue / 1000).toFixed(0)} ms over ${this.count}`;
  }
}
