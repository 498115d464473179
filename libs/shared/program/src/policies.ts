import { Channel } from '@mmp/contracts';
import { z } from 'zod';
import { Duration, PositiveInt, TimeOfDay, Timezone } from './primitives';

/** `opt-in`: message only customers who said yes; `opt-out`: message everyone who has not said no. */
export const ConsentMode = z.enum(['opt-in', 'opt-out']);
export type ConsentMode = z.infer<typeof ConsentMode>;

/** The consent model per channel (defaults: email opt-out, SMS and push opt-in). */
export const ConsentPolicy = z.strictObject({
  email: ConsentMode.default('opt-out'),
  sms: ConsentMode.default('opt-in'),
  push: ConsentMode.default('opt-in'),
});
export type ConsentPolicy = z.infer<typeof ConsentPolicy>;

/**
 * Local hours in which messages on `channels` are not sent but deferred to `end`. `start` after
 * `end` spans midnight (`21:00`-`08:00`). Without `channels`, every channel is quiet.
 */
export const QuietHours = z
  .strictObject({
    start: TimeOfDay,
    end: TimeOfDay,
    channels: z.array(Channel).min(1).default(['email', 'sms', 'push']),
  })
  .superRefine((quiet, ctx) => {
    if (quiet.start === quiet.end)
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must differ from start' });
  });
export type QuietHours = z.infer<typeof QuietHours>;

export const CapChannel = z.enum(['email', 'sms', 'push', 'any']);
export type CapChannel = z.infer<typeof CapChannel>;

/** At most `max` messages on `channel` (or on all channels together: `any`) per rolling `per`. */
export const FrequencyCap = z.strictObject({
  channel: CapChannel,
  max: PositiveInt,
  per: Duration,
});
export type FrequencyCap = z.infer<typeof FrequencyCap>;

export const Policies = z.strictObject({
  /** The zone of customers whose profile has none. */
  timezone: Timezone.default('UTC'),
  consent: ConsentPolicy.prefault({}),
  quietHours: QuietHours.optional(),
  frequencyCaps: z.array(FrequencyCap).default([]),
  /** Events older than this at arrival update profiles but trigger nothing. */
  maxTriggerAgeHours: z.number().positive().default(48),
  /**
   * How late a time-based milestone may still fire: one missed by more (the scheduler was
   * down, the sandbox clock jumped far) is skipped and counted, never sent late.
   */
  milestoneGracePeriod: Duration.default('6h'),
});
export type Policies = z.infer<typeof Policies>;
