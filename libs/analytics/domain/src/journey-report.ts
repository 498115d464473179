import { liftOf, type GroupOutcome } from './lift';
import type { Group } from './attribution';

/** The figures the analytics store counts for one journey, as they come out of SQL. */
export interface GroupFigures {
  group: Group;
  entered: number;
  conversions: number;
  /** Order totals within the goal windows net of refunds, a decimal string. */
  revenue: string;
}

export interface FactCount {
  stepId: string;
  variant: string | null;
  /** A message status of messages.events.v1. */
  status: string;
  messages: number;
}

export interface VariantFigures {
  stepId: string;
  variant: string;
  /** Treatment entrants who were sent this variant. */
  entered: number;
  conversions: number;
}

export interface TouchCount {
  kind: 'open' | 'click';
  total: number;
  machine: number;
}

export interface VolumeCount {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  status: string;
  messages: number;
}

export interface JourneyFigures {
  groups: GroupFigures[];
  facts: FactCount[];
  variants: VariantFigures[];
  touches: TouchCount[];
  volume: VolumeCount[];
}

export interface MessageCounts {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  bounced: number;
  failed: number;
  suppressed: number;
}

export interface Effect {
  conversions: { treatment: number; holdout: number };
  conversionRate: { treatment: number | null; holdout: number | null };
  /** Treatment rate minus holdout rate; null until both groups have entrants. */
  lift: number | null;
  /** Newcombe's 95% interval for the lift. */
  liftInterval: [number, number] | null;
}

export interface JourneyReport extends MessageCounts, Effect {
  journeyKey: string;
  /** Every entrant, treatment and holdout. */
  entered: number;
  holdout: number;
  revenue: { treatment: string; holdout: string };
  /** Every open and click, repeats included, and those flagged as machine traffic. */
  tracking: { opens: number; machineOpens: number; clicks: number; machineClicks: number };
  steps: ({ stepId: string } & MessageCounts)[];
  variants: ({ stepId: string; variant: string; entered: number } & MessageCounts & Effect)[];
  /** Messages per UTC day and status, oldest first. */
  volume: ({ day: string } & MessageCounts)[];
}

const COUNTED = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'failed', 'suppressed'] as const;

function countsOf(facts: readonly { status: string; messages: number }[]): MessageCounts {
  const counts: MessageCounts = {
    sent: 0,
    delivered: 0,
    opened: 0,
    clicked: 0,
    bounced: 0,
    failed: 0,
    suppressed: 0,
  };
  for (const fact of facts) {
    const status = COUNTED.find((name) => name === fact.status);
    if (status) counts[status] += fact.messages;
  }
  return counts;
}

function effectOf(treatment: GroupOutcome, holdout: GroupOutcome): Effect {
  const lift = liftOf(treatment, holdout);
  return {
    conversions: { treatment: treatment.conversions, holdout: holdout.conversions },
    conversionRate: { treatment: lift.treatmentRate, holdout: lift.holdoutRate },
    lift: lift.lift,
    liftInterval: lift.interval ? [lift.interval.lo, lift.interval.hi] : null,
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

/**
 * The answer of `GET /v1/analytics/journeys/{key}`. Message counts are distinct messages per
 * status (`opened`/`clicked`: a first human open or click). Each variant is compared with the
 * whole holdout: the holdout received nothing, so it is the control of every variant alike.
 */
export function journeyReport(journeyKey: string, figures: JourneyFigures): JourneyReport {
  const group = (name: Group): GroupFigures =>
    figures.groups.find((g) => g.group === name) ?? {
      group: name,
      entered: 0,
      conversions: 0,
      revenue: '0.00',
    };
  const treatment = group('treatment');
  const holdout = group('holdout');
  const touches = (kind: 'open' | 'click'): TouchCount =>
    figures.touches.find((t) => t.kind === kind) ?? { kind, total: 0, machine: 0 };

  return {
    journeyKey,
    entered: treatment.entered + holdout.entered,
    holdout: holdout.entered,
    ...countsOf(figures.facts),
    ...effectOf(treatment, holdout),
    revenue: { treatment: treatment.revenue, holdout: holdout.revenue },
    tracking: {
      opens: touches('open').total,
      machineOpens: touches('open').machine,
      clicks: touches('click').total,
      machineClicks: touches('click').machine,
    },
    steps: [...groupBy(figures.facts, (f) => f.stepId)].map(([stepId, facts]) => ({
      stepId,
      ...countsOf(facts),
    })),
    variants: figures.variants.map((variant) => ({
      stepId: variant.stepId,
      variant: variant.variant,
      entered: variant.entered,
      ...countsOf(figures.facts.filter((f) => f.stepId === variant.stepId && f.variant === variant.variant)),
      ...effectOf(variant, holdout),
    })),
    volume: [...groupBy(figures.volume, (v) => v.day)].map(([day, counts]) => ({ day, ...countsOf(counts) })),
  };
}
