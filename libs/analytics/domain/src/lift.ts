/**
 * Lift of a journey: the treatment's conversion rate minus the holdout's, with a 95% interval.
 *
 * Single rates use Wilson's score interval, which stays inside [0, 1] and keeps its coverage for
 * small groups and rates near 0 (where the textbook Wald interval collapses to a point). The
 * difference uses Newcombe's hybrid score method (method 10 of Newcombe 1998, "Interval
 * estimation for the difference between independent proportions"), built from the two Wilson
 * intervals: no iteration, and good coverage even for a holdout of a few hundred customers.
 */

/** The standard normal quantile for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  lo: number;
  hi: number;
}

export interface GroupOutcome {
  /** Customers who reached the goal. */
  conversions: number;
  /** Customers measured (entered the group). */
  entered: number;
}

export interface Lift {
  /** Conversion rate per group; null when the group is empty. */
  treatmentRate: number | null;
  holdoutRate: number | null;
  /** Treatment rate minus holdout rate; null until both groups have entrants. */
  lift: number | null;
  interval: Interval | null;
}

/** Wilson's score interval for `successes` out of `trials` (trials > 0). */
export function wilsonInterval(successes: number, trials: number, z: number = Z_95): Interval {
  assertCounts(successes, trials);
  const p = successes / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  // The bounds are exactly 0 at no successes and 1 at all; rounding would miss them by a hair.
  return {
    lo: successes === 0 ? 0 : (centre - spread) / denominator,
    hi: successes === trials ? 1 : (centre + spread) / denominator,
  };
}

/** Newcombe's interval for p1 - p2 from the Wilson intervals of each proportion. */
export function newcombeDifference(first: GroupOutcome, second: GroupOutcome, z: number = Z_95): Interval {
  const p1 = first.conversions / first.entered;
  const p2 = second.conversions / second.entered;
  const w1 = wilsonInterval(first.conversions, first.entered, z);
  const w2 = wilsonInterval(second.conversions, second.entered, z);
  const difference = p1 - p2;
  return {
    lo: difference - Math.sqrt((p1 - w1.lo) ** 2 + (w2.hi - p2) ** 2),
    hi: difference + Math.sqrt((w1.hi - p1) ** 2 + (p2 - w2.lo) ** 2),
  };
}

/** Rates, lift and its 95% interval; the parts that need an empty group are null. */
export function liftOf(treatment: GroupOutcome, holdout: GroupOutcome): Lift {
  assertCounts(treatment.conversions, treatment.entered, true);
  assertCounts(holdout.conversions, holdout.entered, true);
  const treatmentRate = treatment.entered > 0 ? treatment.conversions / treatment.entered : null;
  const holdoutRate = holdout.entered > 0 ? holdout.conversions / holdout.entered : null;
  if (treatmentRate === null || holdoutRate === null)
    return { treatmentRate, holdoutRate, lift: null, interval: null };
  return {
    treatmentRate,
    holdoutRate,
    lift: treatmentRate - holdoutRate,
    interval: newcombeDifference(treatment, holdout),
  };
}

function assertCounts(successes: number, trials: number, allowEmpty = false): void {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials)
    throw new RangeError(`conversions must be whole numbers within 0..entered (got ${successes}/${trials})`);
  if (trials === 0 && !allowEmpty) throw new RangeError('an interval needs at least one entrant');
}
