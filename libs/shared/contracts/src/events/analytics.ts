import { z } from 'zod';
import { DecimalString, IsoDateTime } from './primitives';

export const ConversionV1 = z.object({
  schemaVersion: z.literal(1),
  conversionId: z.string(),
  journeyKey: z.string(),
  customerId: z.string(),
  group: z.enum(['treatment', 'holdout']),
  goalEvent: z.string(),
  eventId: z.string(),
  enteredAt: IsoDateTime,
  convertedAt: IsoDateTime,
  revenue: DecimalString.nullable(),
  currency: z.string().nullable(),
});
export type ConversionV1 = z.infer<typeof ConversionV1>;

export const JourneyMetricsV1 = z.object({
  schemaVersion: z.literal(1),
  journeyKey: z.string(),
  computedAt: IsoDateTime,
  counts: z.record(z.string(), z.number().int().nonnegative()),
});
export type JourneyMetricsV1 = z.infer<typeof JourneyMetricsV1>;
