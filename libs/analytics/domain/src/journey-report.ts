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
  /** Distinct customers among those messages. */
  customers: number;
}

/** Distinct customers of the whole journey who had a message reach a status. */
export interface CustomerCount {
  status: string;
  customers: number;
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
  customers: CustomerCount[];
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

/**
 * A variant's control. A step that every treatment entrant reaches (one before any wait or
 * branch) compares its variants with the holdout; a later step's recipients are a selection
 * (those who had not converted or exited by then), so its variants are compared with the other
 * variants of that step, among those who reached it.
 */
export type VariantBaseline = 'holdout' | 'other_variants';

/** Journey and step counts are customers (the funnel: never more than entered); `messages` counts sends. */
export interface JourneyReport extends MessageCounts, Effect {
  journeyKey: string;
  messages: MessageCounts;
  /** Every entrant, treatment and holdout. */
  entered: number;
  holdout: number;
  revenue: { treatment: string; holdout: string };
  /** Every open and click, repeats included, and those flagged as machine traffic. */
  tracking: { opens: number; machineOpens: number; clicks: number; machineClicks: number };
  steps: ({ stepId: string; messages: MessageCounts } & MessageCounts)[];
  variants: ({
    stepId: string;
    variant: string;
    entered: number;
    comparedWith: VariantBaseline;
  } & MessageCounts &
    Effect)[];
  /** Messages per UTC day and status, oldest first. */
  volume: ({ day: string } & MessageCounts)[];
}

const COUNTED = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'failed', 'suppressed'] as const;

function countsOf<F extends { status: string }>(
  facts: readonly F[],
  count: (fact: F) => number,
): MessageCounts {
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
    if (status) counts[status] += count(fact);
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

const messagesOf = (fact: { messages: number }): number => fact.messages;
const customersOf = (fact: { customers: number }): number => fact.customers;

/**
 * The answer of `GET /v1/analytics/journeys/{key}`. Journey and step counts are distinct
 * customers per status (`opened`/`clicked`: a first human open or click), so that the funnel
 * reads against `entered`; `messages` has the same counts in sends. `openingSteps` are the
 * steps every treatment entrant reaches (see VariantBaseline).
 */
export function journeyReport(
  journeyKey: string,
  figures: JourneyFigures,
  openingSteps: ReadonlySet<string> = new Set(),
): JourneyReport {
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
    ...countsOf(figures.customers, customersOf),
    messages: countsOf(figures.facts, messagesOf),
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
      ...countsOf(facts, customersOf),
      messages: countsOf(facts, messagesOf),
    })),
    variants: figures.variants.map((variant) => {
      const comparedWith: VariantBaseline = openingSteps.has(variant.stepId) ? 'holdout' : 'other_variants';
      return {
        stepId: variant.stepId,
        variant: variant.variant,
        entered: variant.entered,
        comparedWith,
        ...countsOf(
          figures.facts.filter((f) => f.stepId === variant.stepId && f.variant === variant.variant),
          customersOf,
        ),
        ...effectOf(
          variant,
          comparedWith === 'holdout' ? holdout : otherVariantsOf(variant, figures.variants),
        ),
      };
    }),
    volume: [...groupBy(figures.volume, (v) => v.day)].map(([day, counts]) => ({
      day,
      ...countsOf(counts, messagesOf),
    })),
  };
}

/** The recipients of the step's other variants, pooled: the control of a later step's variant. */
function otherVariantsOf(variant: VariantFigures, all: readonly VariantFigures[]): GroupOutcome {
  const others = all.filter((v) => v.stepId === variant.stepId && v.variant !== variant.variant);
  return {
    entered: others.reduce((sum, v) => sum + v.entered, 0),
    conversions: others.reduce((sum, v) => sum + v.conversions, 0),
  };
}

/**
 * The steps every treatment entrant reaches: those before the first wait or branch (an entrant
 * runs them at entry, before anything can end the instance).
 */
export function openingStepsOf(
  steps: readonly { id: string; kind: 'send' | 'wait' | 'branch' }[],
): Set<string> {
  const opening = new Set<string>();
  for (const step of steps) {
    if (step.kind !== 'send') break;
    opening.add(step.id);
  }
  return opening;
}
