import type { CustomerEventV1, CustomerProfileSnapshot } from '@mmp/contracts';
import {
  matchesConditions,
  type MilestoneDefinition,
  type NthEventMilestone,
  type ThresholdMilestone,
  type WindowedCountMilestone,
} from '@mmp/program';
import { occurrenceIdOf } from './occurrence-id';

export interface MilestoneOccurrence {
  occurrenceId: string;
  milestoneKey: string;
  customerId: string;
  occurrence: string;
  reachedAt: Date;
  context: { n?: number; years?: number; days?: number };
  causeEventId: string | null;
}

/** How many times a threshold has been crossed upward while the milestone existed. */
export interface ThresholdState {
  kind: 'threshold';
  crossings: number;
}

/** The events counted in the current window, and the end of the silence after a firing. */
export interface WindowState {
  kind: 'windowed_count';
  events: { eventId: string; at: string }[];
  silentUntil: string | null;
}

/** What an event-driven milestone remembers per customer between events. */
export type MilestoneState = ThresholdState | WindowState;

export interface CustomerEvaluation {
  reached: { occurrence: MilestoneOccurrence; event: CustomerEventV1 }[];
  /** The states that changed, by milestone key: to be stored for the next batch. */
  states: Map<string, MilestoneState>;
}

const DAY_MS = 86_400_000;

/**
 * Milestones one customer's events reach, in the order they arrived (per-customer order is the
 * partition's). `previousProfile` is the profile before the first event (null for a new
 * customer) and `states` what each event-driven milestone remembered; both come from the
 * milestones service's own tables, so a redelivered event finds the profile already at its
 * value and reaches nothing new. Events too old to trigger move the profile along but reach
 * nothing. `where` conditions are checked on the profile after the event.
 *
 * An occurrence is reached at `now`, when this service handles its event. (Reaching it when the
 * event occurred made the chaos run's journeys differ from the oracle's, README "Chaos run".)
 */
export function evaluateCustomerEvents(
  milestones: readonly MilestoneDefinition[],
  previousProfile: CustomerProfileSnapshot | null,
  states: ReadonlyMap<string, MilestoneState>,
  events: readonly CustomerEventV1[],
  now: Date,
): CustomerEvaluation {
  const current = new Map(states);
  const changed = new Map<string, MilestoneState>();
  const reached: CustomerEvaluation['reached'] = [];
  let before = previousProfile;
  for (const event of events) {
    for (const milestone of milestones) {
      const outcome = evaluateOne(milestone, before, current.get(milestone.key), event);
      if (!outcome) continue;
      if (outcome.state) {
        current.set(milestone.key, outcome.state);
        changed.set(milestone.key, outcome.state);
      }
      if (outcome.occurrence === undefined) continue;
      reached.push({
        event,
        occurrence: {
          occurrenceId: occurrenceIdOf(milestone.key, event.customerId, outcome.occurrence),
          milestoneKey: milestone.key,
          customerId: event.customerId,
          occurrence: outcome.occurrence,
          reachedAt: now,
          context: outcome.context ?? {},
          causeEventId: event.eventId,
        },
      });
    }
    before = event.profile;
  }
  return { reached, states: changed };
}

interface Outcome {
  occurrence?: string;
  context?: MilestoneOccurrence['context'];
  state?: MilestoneState;
}

function evaluateOne(
  milestone: MilestoneDefinition,
  before: CustomerProfileSnapshot | null,
  state: MilestoneState | undefined,
  event: CustomerEventV1,
): Outcome | null {
  switch (milestone.kind) {
    case 'nth_event':
      return nthEvent(milestone, event);
    case 'threshold':
      return threshold(milestone, before, state?.kind === 'threshold' ? state : undefined, event);
    case 'windowed_count':
      return windowedCount(milestone, state?.kind === 'windowed_count' ? state : undefined, event);
    case 'anniversary':
    case 'after':
    case 'inactivity':
      // Time-based: scheduled, not reached by an event (see timed-milestones.ts).
      return null;
  }
}

/** Fires on the event that makes the count of its type exactly n: ingestion counts each eventId once. */
function nthEvent(milestone: NthEventMilestone, event: CustomerEventV1): Outcome | null {
  if (!event.triggerable || milestone.event !== event.type) return null;
  if (!matchesConditions(milestone.where, event.profile)) return null;
  const count = event.profile.attributes.eventCounts[milestone.event] ?? 0;
  if (count !== milestone.n) return null;
  return { occurrence: String(milestone.n), context: { n: milestone.n } };
}

/** The watched attribute as a number (lifetimeValue is a decimal string); 0 when absent. */
export function thresholdValue(attribute: string, profile: CustomerProfileSnapshot | null): number {
  if (!profile) return 0;
  const { attributes } = profile;
  if (attribute === 'lifetimeOrders') return attributes.lifetimeOrders;
  if (attribute === 'lifetimeValue') return Number(attributes.lifetimeValue);
  return attributes.eventCounts[attribute.slice('eventCounts.'.length)] ?? 0;
}

/**
 * Fires when the attribute goes from below `gte` to at least `gte` on one event. Without
 * `rearm` only the first crossing fires; with it every crossing after a fall below (a refund)
 * does, numbered 1, 2, 3... A customer already above when the milestone is added has no
 * crossing, so nothing fires retroactively.
 */
function threshold(
  milestone: ThresholdMilestone,
  before: CustomerProfileSnapshot | null,
  state: ThresholdState | undefined,
  event: CustomerEventV1,
): Outcome | null {
  const crossed =
    thresholdValue(milestone.attribute, before) < milestone.gte &&
    thresholdValue(milestone.attribute, event.profile) >= milestone.gte;
  if (!crossed || !event.triggerable) return null;
  if (!matchesConditions(milestone.where, event.profile)) return null;
  const crossings = state?.crossings ?? 0;
  if (crossings > 0 && !milestone.rearm) return null;
  const next = crossings + 1;
  return { occurrence: String(next), context: { n: next }, state: { kind: 'threshold', crossings: next } };
}

/**
 * Counts events of the type in a sliding window of `withinDays` (by `occurredAt`); the event
 * that makes n fires, with the window's first event as the occurrence. Then the milestone is
 * silent for a whole window from that event: events in it are not counted. A redelivered event
 * is recognised by its id (or falls in the silence), so it never counts twice.
 */
function windowedCount(
  milestone: WindowedCountMilestone,
  state: WindowState | undefined,
  event: CustomerEventV1,
): Outcome | null {
  if (!event.triggerable || milestone.event !== event.type) return null;
  const at = new Date(event.occurredAt).getTime();
  const previous = state ?? { kind: 'windowed_count', events: [], silentUntil: null };
  if (previous.events.some((counted) => counted.eventId === event.eventId)) return null;
  if (previous.silentUntil !== null && at < new Date(previous.silentUntil).getTime()) return null;
  const windowMs = milestone.withinDays * DAY_MS;
  const newest = Math.max(at, ...previous.events.map((counted) => new Date(counted.at).getTime()));
  const events = [...previous.events, { eventId: event.eventId, at: new Date(at).toISOString() }]
    .filter((counted) => new Date(counted.at).getTime() > newest - windowMs)
    .sort((a, b) => a.at.localeCompare(b.at))
    // Only the latest n can ever matter.
    .slice(-milestone.n);
  const first = events[0];
  if (events.length < milestone.n || !first || !matchesConditions(milestone.where, event.profile)) {
    return { state: { kind: 'windowed_count', events, silentUntil: previous.silentUntil } };
  }
  return {
    occurrence: first.at,
    context: { n: milestone.n },
    state: { kind: 'windowed_count', events: [], silentUntil: new Date(at + windowMs).toISOString() },
  };
}
