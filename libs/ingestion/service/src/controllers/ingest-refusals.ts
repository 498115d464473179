import type { RetailEventV1, ValidationIssue } from '@mmp/contracts';
import type { IngestOutcome } from '../usecases/ingest-events/ingest-events.usecase';

export interface RejectedItem {
  index: number;
  errors: ValidationIssue[];
}

/**
 * The refusals of the ingest use case (valid events a rule on the customer's state refused) as
 * rejected items at their place in the request, merged with the items rejected before ingesting,
 * in request order. An eventId repeated in the request is placed at its first occurrence.
 */
export function withIngestRefusals<R extends RejectedItem>(
  rejected: readonly R[],
  valid: readonly { index: number; event: RetailEventV1 }[],
  outcome: IngestOutcome,
  itemOf: (index: number, eventId: string, errors: ValidationIssue[]) => R,
): R[] {
  if (outcome.rejected.length === 0) return [...rejected];
  const indexOf = new Map<string, number>();
  for (const { index, event } of valid) if (!indexOf.has(event.eventId)) indexOf.set(event.eventId, index);
  const refused = outcome.rejected.map((refusal) =>
    itemOf(indexOf.get(refusal.eventId) ?? -1, refusal.eventId, [
      { path: refusal.path, message: refusal.message },
    ]),
  );
  return [...rejected, ...refused].sort((a, b) => a.index - b.index);
}
