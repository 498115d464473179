import type { CustomerProfileSnapshot } from '@mmp/contracts';
import {
  EXIT,
  isEventSinceEntry,
  matchesConditions,
  type JourneyDefinition,
  type JourneyStep,
} from '@mmp/program';
import { DateTime } from 'luxon';
import { chooseVariant, instanceIdOf, isInHoldout, messageIdOf } from './assignment';
import type { SuppressionReason } from './send-policy';

/**
 * The journey step machine (SPEC section 5): pure, so every rule is tested without
 * infrastructure. The journeys service stores InstanceState and turns effects into
 * `messages.requested.v1`.
 */

export type InstanceStatus = 'active' | 'waiting' | 'completed' | 'exited';
export type Group = 'treatment' | 'holdout';
/** What a waiting instance waits for: a `wait` step, or the end of quiet hours to run its send step. */
export type WaitReason = 'wait' | 'quiet_hours';

export interface InstanceState {
  instanceId: string;
  journeyKey: string;
  customerId: string;
  occurrenceId: string;
  group: Group;
  status: InstanceStatus;
  /** Index into the journey's steps of the step to run next (or being waited on). */
  stepIndex: number;
  /** When a wait ends; set while status is `waiting`. */
  wakeAt: Date | null;
  /** Set while status is `waiting`: `quiet_hours` runs the same (send) step again on waking. */
  waitReason: WaitReason | null;
  enteredAt: Date;
  exitReason: string | null;
}

export interface SendEffect {
  kind: 'send';
  messageId: string;
  stepId: string;
  template: string;
  variant: string | null;
  /** Set when a policy decided this message must not go out; it is still recorded as `suppressed`. */
  suppressedReason: SuppressionReason | null;
}

/** What the send policies say about a send step at the moment it runs (see send-policy.ts). */
export type SendGateOutcome =
  { kind: 'send' } | { kind: 'defer'; until: Date } | { kind: 'suppress'; reason: SuppressionReason };

/** Decides a send as it runs; the service closes it over the customer's ledger and the policies. */
export type SendGate = (send: { stepId: string; template: string }) => SendGateOutcome;

export interface StepContext {
  now: Date;
  /** The customer's IANA zone (or the program's default), for `wait.until`. */
  timezone: string;
  /** Event types the customer produced since entering, for `branch.if.eventSinceEntry`. */
  eventsSinceEntry: ReadonlySet<string>;
  profile: CustomerProfileSnapshot;
  /** Quiet hours, priority collisions and caps; without one every send goes out. */
  gateSend?: SendGate;
}

/** Far more transitions than any real journey makes in one go: only a branch loop without a wait hits it. */
const MAX_TRANSITIONS = 256;

export function enterJourney(
  journey: JourneyDefinition,
  trigger: { customerId: string; occurrenceId: string },
  now: Date,
): InstanceState {
  const holdout = isInHoldout(trigger.customerId, journey.key, journey.holdoutPercent);
  return {
    instanceId: instanceIdOf(journey.key, trigger.occurrenceId),
    journeyKey: journey.key,
    customerId: trigger.customerId,
    occurrenceId: trigger.occurrenceId,
    group: holdout ? 'holdout' : 'treatment',
    // The holdout receives nothing but is measured from its entry, so it is done at once.
    status: holdout ? 'completed' : 'active',
    stepIndex: 0,
    wakeAt: null,
    waitReason: null,
    enteredAt: now,
    exitReason: holdout ? 'holdout' : null,
  };
}

/**
 * Runs the instance from where it stands until it waits, exits or completes, and returns what
 * it must send. A waiting instance whose wakeAt has not come stays as it is.
 */
export function advance(
  journey: JourneyDefinition,
  instance: InstanceState,
  context: StepContext,
): { instance: InstanceState; effects: SendEffect[] } {
  let state = { ...instance };
  const effects: SendEffect[] = [];
  if (state.status === 'waiting') {
    if (!state.wakeAt || state.wakeAt.getTime() > context.now.getTime()) return { instance: state, effects };
    // A send deferred by quiet hours runs again; a finished wait step moves on.
    const stepIndex = state.waitReason === 'quiet_hours' ? state.stepIndex : state.stepIndex + 1;
    state = { ...state, status: 'active', wakeAt: null, waitReason: null, stepIndex };
  }
  for (let transitions = 0; state.status === 'active'; transitions++) {
    if (transitions >= MAX_TRANSITIONS) return { instance: exit(state, 'step_loop'), effects };
    const step = journey.steps[state.stepIndex];
    if (!step) return { instance: { ...state, status: 'completed' }, effects };
    const outcome = runStep(journey, state, step, context);
    if (outcome.effect) effects.push(outcome.effect);
    state = outcome.state;
  }
  return { instance: state, effects };
}

/** An `exitOn` event ends the instance at once, whatever it was doing. */
export function exitOnEvent(
  journey: JourneyDefinition,
  instance: InstanceState,
  eventType: string,
): InstanceState {
  if (instance.status !== 'active' && instance.status !== 'waiting') return instance;
  return (journey.exitOn ?? []).includes(eventType) ? exit(instance, `exit_on:${eventType}`) : instance;
}

function runStep(
  journey: JourneyDefinition,
  state: InstanceState,
  step: JourneyStep,
  context: StepContext,
): { state: InstanceState; effect?: SendEffect } {
  if ('send' in step) {
    const send = step.send;
    const chosen =
      'variants' in send
        ? chooseVariant(state.customerId, journey.key, step.id, send.variants)
        : { template: send.template, variant: null };
    const template = chosen.template;
    const variant = 'variants' in send ? template : null;
    const gate = context.gateSend?.({ stepId: step.id, template }) ?? { kind: 'send' };
    if (gate.kind === 'defer') {
      return { state: { ...state, status: 'waiting', wakeAt: gate.until, waitReason: 'quiet_hours' } };
    }
    return {
      state: { ...state, stepIndex: state.stepIndex + 1 },
      effect: {
        kind: 'send',
        messageId: messageIdOf(state.instanceId, step.id),
        stepId: step.id,
        template,
        variant,
        suppressedReason: gate.kind === 'suppress' ? gate.reason : null,
      },
    };
  }
  if ('wait' in step) {
    return {
      state: { ...state, status: 'waiting', wakeAt: wakeTimeOf(step.wait, context), waitReason: 'wait' },
    };
  }
  const branch = step.branch;
  const holds = isEventSinceEntry(branch.if)
    ? context.eventsSinceEntry.has(branch.if.eventSinceEntry)
    : matchesConditions(branch.if, context.profile);
  const target = holds ? branch.then : branch.else;
  if (target === undefined) return { state: { ...state, stepIndex: state.stepIndex + 1 } };
  if (target === EXIT) return { state: exit(state, `branch:${step.id}`) };
  const index = journey.steps.findIndex((s) => s.id === target);
  // The program loader rejects unknown targets; this guards a definition built in code.
  if (index < 0) return { state: exit(state, `unknown_step:${target}`) };
  return { state: { ...state, stepIndex: index } };
}

type WaitSpec = Extract<JourneyStep, { wait: unknown }>['wait'];

function wakeTimeOf(wait: WaitSpec, context: StepContext): Date {
  if ('until' in wait) {
    const [hour = 0, minute = 0] = wait.until.split(':').map(Number);
    const local = DateTime.fromJSDate(context.now, { zone: context.timezone });
    let next = local.set({ hour, minute, second: 0, millisecond: 0 });
    if (next <= local) next = next.plus({ days: 1 }).set({ hour, minute });
    return next.toJSDate();
  }
  // Days are calendar days in the customer's zone (same local time across a DST change);
  // hours and minutes are elapsed time.
  return DateTime.fromJSDate(context.now, { zone: context.timezone })
    .plus({ days: wait.days ?? 0 })
    .plus({ hours: wait.hours ?? 0, minutes: wait.minutes ?? 0 })
    .toJSDate();
}

function exit(state: InstanceState, reason: string): InstanceState {
  return { ...state, status: 'exited', wakeAt: null, waitReason: null, exitReason: reason };
}

/**
 * The goal window of an entry: `withinDays` calendar days in the customer's zone after entering
 * (the same local time that many days later), for treatment and holdout alike.
 */
export function goalWindowOf(
  journey: JourneyDefinition,
  enteredAt: Date,
  timezone: string,
): { event: string; endsAt: Date } | null {
  if (!journey.goal) return null;
  const endsAt = DateTime.fromJSDate(enteredAt, { zone: timezone }).plus({ days: journey.goal.withinDays });
  return { event: journey.goal.event, endsAt: endsAt.toJSDate() };
}
