import { z } from 'zod';
import { CustomerProfileSnapshot } from './customer-profile';
import { IsoDateTime } from './primitives';

export const MilestoneReachedV1 = z.object({
  schemaVersion: z.literal(1),
  /** Deterministic: the same milestone occurrence always has the same id (key, customer, occurrence). */
  occurrenceId: z.string(),
  milestoneKey: z.string(),
  customerId: z.string(),
  /** Which occurrence: `n` for nth_event, the year for anniversaries, a window start for windowed counts. */
  occurrence: z.string(),
  reachedAt: IsoDateTime,
  context: z
    .object({ n: z.number().int().optional(), years: z.number().int().optional() })
    .catchall(z.unknown()),
  /** The event that caused it, for event-driven kinds. */
  causeEventId: z.string().nullable(),
  profile: CustomerProfileSnapshot,
});
export type MilestoneReachedV1 = z.infer<typeof MilestoneReachedV1>;
