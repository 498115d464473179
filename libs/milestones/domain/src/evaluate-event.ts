import type { CustomerEventV1 } from '@mmp/contracts';
import { matchesConditions, type MilestoneDefinition, type NthEventMilestone } from '@mmp/program';
import { occurrenceIdOf } from './occurrence-id';

export interface MilestoneOccurrence {
  occurrenceId: string;
  milestoneKey: string;
  customerId: string;
  occurrence: string;
  reachedAt: Date;
  context: { n?: number; years?: number };
  causeEventId: string | null;
}

/**
 * Milestones an incoming event reaches. `nth_event` fires on the event that makes the count of
 * its type exactly n: ingestion counts each eventId once, so exactly one event per customer
 * carries count n, whatever order the events arrived in. Events too old to trigger (historical
 * imports) reach nothing. `where` conditions are checked on the profile after the event.
 */
export function evaluateEvent(
  milestones: readonly MilestoneDefinition[],
  event: CustomerEventV1,
  now: Date,
): MilestoneOccurrence[] {
  if (!event.triggerable) return [];
  const reached: MilestoneOccurrence[] = [];
  for (const milestone of milestones.filter(isNthEvent)) {
    if (milestone.event !== event.type) continue;
    if (!matchesConditions(milestone.where, event.profile)) continue;
    const count = event.profile.attributes.eventCounts[milestone.event] ?? 0;
    if (count !== milestone.n) continue;
    const occurrence = String(milestone.n);
    reached.push({
      occurrenceId: occurrenceIdOf(milestone.key, event.customerId, occurrence),
      milestoneKey: milestone.key,
      customerId: event.customerId,
      occurrence,
      reachedAt: now,
      context: { n: milestone.n },
      causeEventId: event.eventId,
    });
  }
  return reached;
}

const isNthEvent = (m: MilestoneDefinition): m is NthEventMilestone => m.kind === 'nth_event';
