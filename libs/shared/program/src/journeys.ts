import { EventType } from '@mmp/contracts';
import { z } from 'zod';
import { BranchCondition } from './conditions';
import { EXIT, Key, PositiveInt, StepId, TemplateName, TimeOfDay } from './primitives';

/**
 * Journey definitions (SPEC section 5). A step is one of three shapes, told apart by the key it
 * carries: `send`, `wait` or `branch`. The schemas below accept the YAML as written and produce
 * precise unions, so a consumer narrows with `'send' in step` (or `stepKind(step)` in a switch).
 */

export const Variant = z.strictObject({
  template: TemplateName,
  weight: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }),
});
export type Variant = z.infer<typeof Variant>;

export type SendAction = { template: string } | { variants: Variant[] };

/** `{ template }` or weighted `{ variants: [{ template, weight }] }` (assignment stable per customer). */
export const SendAction = z
  .strictObject({
    template: TemplateName.optional(),
    variants: z.array(Variant).min(1, 'must list at least one variant').optional(),
  })
  .transform((send, ctx): SendAction => {
    if (send.template !== undefined && send.variants === undefined) return { template: send.template };
    if (send.variants !== undefined && send.template === undefined) return { variants: send.variants };
    ctx.addIssue({
      code: 'custom',
      message:
        send.template === undefined
          ? 'must name a template or variants'
          : 'must name either a template or variants, not both',
    });
    return z.NEVER;
  });

export interface WaitFor {
  days?: number;
  hours?: number;
  minutes?: number;
}
export interface WaitUntil {
  /** The next local `HH:MM` in the customer's zone. */
  until: string;
}
export type WaitAction = WaitFor | WaitUntil;

const WHOLE = 'must be a whole number, 0 or more';
const Amount = z.int({ error: WHOLE }).nonnegative({ error: WHOLE });

/** `{ days?, hours?, minutes? }` (summed) or `{ until: "HH:MM" }` local time. */
export const WaitAction = z
  .strictObject({
    days: Amount.optional(),
    hours: Amount.optional(),
    minutes: Amount.optional(),
    until: TimeOfDay.optional(),
  })
  .transform((wait, ctx): WaitAction => {
    const { days, hours, minutes, until } = wait;
    const hasAmount = days !== undefined || hours !== undefined || minutes !== undefined;
    if (until !== undefined) {
      if (!hasAmount) return { until };
      ctx.addIssue({ code: 'custom', message: 'must use either until or days/hours/minutes, not both' });
      return z.NEVER;
    }
    if (!hasAmount) {
      ctx.addIssue({ code: 'custom', message: 'must give days, hours, minutes or until' });
      return z.NEVER;
    }
    if ((days ?? 0) + (hours ?? 0) + (minutes ?? 0) === 0) {
      ctx.addIssue({ code: 'custom', message: 'must wait longer than zero' });
      return z.NEVER;
    }
    return {
      ...(days !== undefined && { days }),
      ...(hours !== undefined && { hours }),
      ...(minutes !== undefined && { minutes }),
    };
  });

/** How long a `{ days, hours, minutes }` wait lasts, in milliseconds. */
export function waitForMs(wait: WaitFor): number {
  return (((wait.days ?? 0) * 24 + (wait.hours ?? 0)) * 60 + (wait.minutes ?? 0)) * 60_000;
}

/** `exit` or the id of a later step of the same journey (checked against the journey after parsing). */
export const BranchTarget = z.string().min(1, `must be "${EXIT}" or a step id`);

/**
 * `if` holds: go to `then`; otherwise go to `else`, or to the next step when `else` is absent.
 * Targets point forward only, so a journey always ends.
 */
export const BranchAction = z.strictObject({
  if: BranchCondition,
  then: BranchTarget,
  else: BranchTarget.optional(),
});
export type BranchAction = z.infer<typeof BranchAction>;

export const SendStep = z.strictObject({ id: StepId, send: SendAction });
export type SendStep = z.infer<typeof SendStep>;
export const WaitStep = z.strictObject({ id: StepId, wait: WaitAction });
export type WaitStep = z.infer<typeof WaitStep>;
export const BranchStep = z.strictObject({ id: StepId, branch: BranchAction });
export type BranchStep = z.infer<typeof BranchStep>;

export type JourneyStep = SendStep | WaitStep | BranchStep;
export type StepKind = 'send' | 'wait' | 'branch';

/** One step: `{ id, send }`, `{ id, wait }` or `{ id, branch }`. */
export const JourneyStep = z
  .strictObject({
    id: StepId,
    send: SendAction.optional(),
    wait: WaitAction.optional(),
    branch: BranchAction.optional(),
  })
  .transform((step, ctx): JourneyStep => {
    const { id, send, wait, branch } = step;
    if (send !== undefined && wait === undefined && branch === undefined) return { id, send };
    if (wait !== undefined && send === undefined && branch === undefined) return { id, wait };
    if (branch !== undefined && send === undefined && wait === undefined) return { id, branch };
    ctx.addIssue({
      code: 'custom',
      message:
        send === undefined && wait === undefined && branch === undefined
          ? 'must have one of send, wait or branch'
          : 'must have only one of send, wait or branch: split it into several steps',
    });
    return z.NEVER;
  });

/** Which of the three shapes a step has, for exhaustive switches. */
export function stepKind(step: JourneyStep): StepKind {
  if ('send' in step) return 'send';
  if ('wait' in step) return 'wait';
  return 'branch';
}

/** A conversion: `event` within `withinDays` of entry, counted alike for treatment and holdout. */
export const JourneyGoal = z.strictObject({
  event: EventType,
  withinDays: PositiveInt,
});
export type JourneyGoal = z.infer<typeof JourneyGoal>;

export const JourneyDefinition = z.strictObject({
  key: Key,
  description: z.string().optional(),
  /** The key of the milestone that starts the journey. */
  trigger: Key,
  /** Same-day collisions between journeys: the higher priority sends. */
  priority: z.int({ error: 'must be an integer' }).default(0),
  /** A stable share of entrants, 0-100, that receives nothing but is measured. */
  holdoutPercent: z
    .number({ error: 'must be a number from 0 to 100' })
    .min(0, 'must be a number from 0 to 100')
    .max(100, 'must be a number from 0 to 100')
    .default(0),
  goal: JourneyGoal.optional(),
  /** Events that end an instance at once. */
  exitOn: z.array(EventType).default([]),
  /** Free-form data templates read as `offer` (`{{offer.code}}`). */
  offer: z.record(z.string(), z.unknown()).optional(),
  steps: z.array(JourneyStep).min(1, 'must list at least one step'),
});
export type JourneyDefinition = z.infer<typeof JourneyDefinition>;
