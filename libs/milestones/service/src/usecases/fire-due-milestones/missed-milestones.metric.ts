import { Counter, register } from 'prom-client';

/**
 * Occurrences skipped because they were missed by more than the grace period. The registry is
 * per process and the platform may build several apps in it, so the counter is made once.
 */
export function missedMilestonesCounter(): Counter<'milestone'> {
  const existing = register.getSingleMetric('milestones_missed_total');
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: 'milestones_missed_total',
    help: 'Time-based milestone occurrences skipped because they were due longer ago than policies.milestoneGracePeriod.',
    labelNames: ['milestone'],
  });
}
