import { liftOf, newcombeDifference, wilsonInterval } from './lift';

/** A small seeded generator (mulberry32), so the simulated truth is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Wilson interval', () => {
  it('matches the published values for 81 of 263', () => {
    const interval = wilsonInterval(81, 263);
    expect(interval.lo).toBeCloseTo(0.2553, 4);
    expect(interval.hi).toBeCloseTo(0.3662, 4);
  });

  it('stays inside [0, 1] and is not a point at 0 or at n successes', () => {
    expect(wilsonInterval(0, 10)).toEqual({ lo: 0, hi: expect.closeTo(0.2775, 4) });
    expect(wilsonInterval(10, 10)).toEqual({ lo: expect.closeTo(0.7225, 4), hi: 1 });
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(0, 0)).toThrow(RangeError);
  });
});

describe("Newcombe's difference interval", () => {
  it("matches Newcombe's (1998) worked example 56/70 - 48/80 for method 10 (Table II)", () => {
    const interval = newcombeDifference({ conversions: 56, entered: 70 }, { conversions: 48, entered: 80 });
    expect(interval.lo).toBeCloseTo(0.0524, 4);
    expect(interval.hi).toBeCloseTo(0.3339, 4);
  });

  it('is asymmetric near the boundary, as the Wald interval is not (5/56 - 0/29)', () => {
    const interval = newcombeDifference({ conversions: 5, entered: 56 }, { conversions: 0, entered: 29 });
    expect(interval.lo).toBeCloseTo(-0.0381, 4);
    expect(interval.hi).toBeCloseTo(0.1926, 4);
  });
});

describe('lift', () => {
  it('recovers a seeded 5-point lift within its interval (15% against 10%)', () => {
    const random = seededRandom(20270315);
    const simulate = (entered: number, rate: number): { conversions: number; entered: number } => {
      let conversions = 0;
      for (let i = 0; i < entered; i += 1) if (random() < rate) conversions += 1;
      return { conversions, entered };
    };
    const treatment = simulate(18_000, 0.15);
    const holdout = simulate(2_000, 0.1);

    const result = liftOf(treatment, holdout);

    expect(result.interval?.lo).toBeLessThan(0.05);
    expect(result.interval?.hi).toBeGreaterThan(0.05);
    // The interval excludes no lift: a 5-point lift with a 10% holdout of 20,000 entrants is detectable.
    expect(result.interval?.lo).toBeGreaterThan(0);
    expect(result.lift).toBeCloseTo(0.05, 1);
  });

  it('covers the true lift in about 95% of seeded repetitions', () => {
    const random = seededRandom(7);
    const draw = (entered: number, rate: number): number => {
      let conversions = 0;
      for (let i = 0; i < entered; i += 1) if (random() < rate) conversions += 1;
      return conversions;
    };
    let covered = 0;
    const repetitions = 400;
    for (let r = 0; r < repetitions; r += 1) {
      const { interval } = liftOf(
        { conversions: draw(900, 0.15), entered: 900 },
        { conversions: draw(100, 0.1), entered: 100 },
      );
      if (interval && interval.lo <= 0.05 && 0.05 <= interval.hi) covered += 1;
    }
    // Binomial(400, 0.95) lies within 0.92..0.98 with probability above 99.9%.
    expect(covered / repetitions).toBeGreaterThanOrEqual(0.92);
    expect(covered / repetitions).toBeLessThanOrEqual(0.98);
  });

  it('answers rates without a lift while a group is empty', () => {
    expect(liftOf({ conversions: 3, entered: 10 }, { conversions: 0, entered: 0 })).toEqual({
      treatmentRate: 0.3,
      holdoutRate: null,
      lift: null,
      interval: null,
    });
  });
});
