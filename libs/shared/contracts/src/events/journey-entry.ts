import { z } from 'zod';
import { IsoDateTime } from './primitives';

/**
 * One journey instance entered, treatment or holdout alike: the denominator of every conversion
 * rate. Journeys publishes it once per instance on `journeys.entries.v1` (a redelivery repeats the
 * same `instanceId`, which consumers deduplicate on). The goal window is the one journeys computed
 * at entry (`withinDays` calendar days in the customer's zone), so analytics and
 * `GET /v1/customers/{id}/journeys` agree on who converted.
 */
export const JourneyEntryV1 = z.object({
  schemaVersion: z.literal(1),
  instanceId: z
    .string()
    .describe('Deterministic id of the instance (journey and occurrence): the idempotency key.'),
  journeyKey: z.string(),
  journeyVersion: z.string().describe('The version of the journey definition the instance runs on.'),
  customerId: z.string(),
  milestoneKey: z.string(),
  group: z.enum(['treatment', 'holdout']),
  enteredAt: IsoDateTime,
  causeEventId: z
    .string()
    .nullable()
    .optional()
    .describe(
      'The event that reached the milestone (null for time-based ones): it happened at enteredAt, so it is not a conversion of this entry. Absent on entries published before it was added.',
    ),
  goal: z
    .object({
      event: z.string().describe('The goal event type, such as order.placed.'),
      windowEndsAt: IsoDateTime.describe(
        'Inclusive end of the goal window; it starts at enteredAt, inclusive.',
      ),
    })
    .nullable(),
});
export type JourneyEntryV1 = z.infer<typeof JourneyEntryV1>;
