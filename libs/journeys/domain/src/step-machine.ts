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
/**
 * What a waiting instance waits for: a `wait` step, the end of quiet hours to run its send
 * step, or (`outcome`) delivery's report on an earlier send that decides its send step.
 */
export type WaitReason = 'wait' | 'quiet_hours' | 'outcome';

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
  /** Set while status is `waiting`: `quiet_hours` and `outcome` run the same (send) step again on waking. */
  waitReason: WaitReason | null;
  /**
   * While waiting for an `outcome`: the decision time of the held send step, which it is still
   * decided at when it runs again (`wakeAt` is then only when to look again).
   */
  heldAt?: Date | null;
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
  | { kind: 'send' }
  | { kind: 'defer'; until: Date }
  | { kind: 'suppress'; reason: SuppressionReason }
  | { kind: 'hold'; recheckAt: Date };

/**
 * Decides a send as it runs, `at` its decision time, `dueAt` the due time of the run it is part
 * of (they differ when the run came later than the grace period); the service closes it over
 * the customer's ledger and the policies.
 */
export type SendGate = (send: { stepId: string; template: string; at: Date; dueAt: Date }) => SendGateOutcome;

export interface StepContext {
  /** The moment the instance is run (the service's clock). */
  now: Date;
  /**
   * How late a step may still be decided at its own due time rather than at `now` (the
   * program's `milestoneGracePeriod`); 0 decides everything at `now`. See `decisionTimeOf`.
   */
  graceMs?: number;
  /** The customer's IANA zone (or the program's default), for `wait.until`. */
  timezone: string;
  /**
   * When the customer first did each event type since entering (by `occurredAt`, the trigger's
   * own cause excluded), for `branch.if.eventSinceEntry` and `exitOn`; see `sinceEntryOf`.
   */
  eventsSinceEntry: ReadonlyMap<string, Date>;
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
 * When an instance entered: when its milestone was reached, not when journeys got round to it,
 * so consumer lag and batching move neither the goal window nor what counts as "since entry".
 * A `reachedAt` ahead of this process's clock (skew between processes) enters now.
 */
export function entryTimeOf(reachedAt: Date, now: Date): Date {
  return reachedAt.getTime() > now.getTime() ? now : reachedAt;
}

/**
 * The time a step is decided at: its own due time (the entry, or the end of its wait) when the
 * run comes within `graceMs` of it, so lag, batching, a crash and a restart decide it the same
 * (quiet hours, same-day collisions, caps, the next wait); `now` when it is later than that (the
 * service was down for longer, the sandbox clock jumped far), so a message held that long is
 * judged, quiet hours included, at the moment it really goes out.
 */
export function decisionTimeOf(dueAt: Date, now: Date, graceMs: number): Date {
  if (dueAt.getTime() > now.getTime()) return now;
  return now.getTime() - dueAt.getTime() <= graceMs ? dueAt : now;
}

/**
 * What the customer did since entering: the first `occurredAt` of each event type at or after
 * the entry, the event that caused the milestone excluded (it happened before the entry, even
 * when both carry the same instant). Arrival order plays no part: an event that arrived before
 * its instance's milestone counts the same as one that arrived after.
 */
export function sinceEntryOf(
  instance: { enteredAt: Date; causeEventId: string | null },
  events: Iterable<{ eventId: string; type: string; occurredAt: Date }>,
): Map<string, Date> {
  const first = new Map<string, Date>();
  for (const event of events) {
    if (event.eventId === instance.causeEventId) continue;
    if (event.occurredAt.getTime() < instance.enteredAt.getTime()) continue;
    const known = first.get(event.type);
    if (!known || event.occurredAt.getTime() < known.getTime()) first.set(event.type, event.occurredAt);
  }
  return first;
}

/**
 * The instance's due time: the decision time of a held send, the end of its wait, or its entry
 * for one not yet run.
 */
function dueAtOf(instance: InstanceState): Date {
  if (instance.status !== 'waiting') return instance.enteredAt;
  if (instance.waitReason === 'outcome' && instance.heldAt) return instance.heldAt;
  return instance.wakeAt ?? instance.enteredAt;
}

/** The earliest `exitOn` event since entry, if any. */
function firstExitOf(
  journey: JourneyDefinition,
  sinceEntry: ReadonlyMap<string, Date>,
): { type: string; at: Date } | null {
  let first: { type: string; at: Date } | null = null;
  for (const type of journey.exitOn ?? []) {
    const at = sinceEntry.get(type);
    if (at && (!first || at.getTime() < first.at.getTime())) first = { type, at };
  }
  return first;
}

/**
 * Runs the instance from where it stands until it waits, exits or completes, and returns what
 * it must send. A waiting instance whose wakeAt has not come stays as it is. Every step runs at
 * the instance's decision time (`decisionTimeOf` its due time) and sees the events that
 * occurred strictly before it; an `exitOn` event that occurred before that time ends the
 * instance first, whenever the event arrived. So the steps due up to an exit event run and
 * those due after it do not; at the same instant the step comes first (as arrival order would
 * have it for an event that arrives after its instance, and must for one that arrives before).
 */
export function advance(
  journey: JourneyDefinition,
  instance: InstanceState,
  context: StepContext,
): { instance: InstanceState; effects: SendEffect[] } {
  let state = { ...instance };
  const effects: SendEffect[] = [];
  // A send held for an outcome may be looked at before its next look is due (a report came in).
  if (state.status === 'waiting' && state.waitReason !== 'outcome') {
    if (!state.wakeAt || state.wakeAt.getTime() > context.now.getTime()) return { instance: state, effects };
  }
  const dueAt = dueAtOf(state);
  const at = decisionTimeOf(dueAt, context.now, context.graceMs ?? 0);
  if (state.status === 'waiting') {
    // A send deferred by quiet hours or held for an outcome runs again; a finished wait step moves on.
    const stepIndex = state.waitReason === 'wait' ? state.stepIndex + 1 : state.stepIndex;
    state = { ...state, status: 'active', wakeAt: null, waitReason: null, heldAt: null, stepIndex };
  }
  const exitEvent = firstExitOf(journey, context.eventsSinceEntry);
  const exitReason = exitEvent ? `exit_on:${exitEvent.type}` : '';
  const steps = { ...context, now: at };
  for (let transitions = 0; state.status === 'active'; transitions++) {
    if (exitEvent && exitEvent.at.getTime() < at.getTime())
      return { instance: exit(state, exitReason), effects };
    if (transitions >= MAX_TRANSITIONS) return { instance: exit(state, 'step_loop'), effects };
    const step = journey.steps[state.stepIndex];
    if (!step) return { instance: { ...state, status: 'completed' }, effects };
    const outcome = runStep(journey, state, step, steps, dueAt);
    if (outcome.effect) effects.push(outcome.effect);
    state = outcome.state;
  }
  // An exit event already known that comes before the wait ends: nothing more will run.
  if (state.status === 'waiting' && exitEvent && dueAtOf(state) > exitEvent.at) {
    return { instance: exit(state, exitReason), effects };
  }
  return { instance: state, effects };
}

/**
 * An `exitOn` event ends the instance at once, whatever it was doing, unless the instance's wait
 * ended before (or as) the event occurred: then the steps due by the event run first (the timer
 * is due, and `advance` ends the instance once it passes the event's time), as they would have
 * had the timer fired before the event arrived. Events from before the entry do not count.
 */
export function exitOnEvent(
  journey: JourneyDefinition,
  instance: InstanceState,
  event: { type: string; occurredAt: Date },
): InstanceState {
  if (instance.status !== 'active' && instance.status !== 'waiting') return instance;
  if (!(journey.exitOn ?? []).includes(event.type)) return instance;
  if (event.occurredAt.getTime() < instance.enteredAt.getTime()) return instance;
  if (instance.status === 'waiting' && dueAtOf(instance) <= event.occurredAt) return instance;
  return exit(instance, `exit_on:${event.type}`);
}

function runStep(
  journey: JourneyDefinition,
  state: InstanceState,
  step: JourneyStep,
  context: StepContext,
  dueAt: Date,
): { state: InstanceState; effect?: SendEffect } {
  if ('send' in step) {
    const send = step.send;
    const chosen =
      'variants' in send
        ? chooseVariant(state.customerId, journey.key, step.id, send.variants)
        : { template: send.template, variant: null };
    const template = chosen.template;
    const variant = 'variants' in send ? template : null;
    const gate = context.gateSend?.({ stepId: step.id, template, at: context.now, dueAt }) ?? {
      kind: 'send',
    };
    if (gate.kind === 'defer') {
      return { state: { ...state, status: 'waiting', wakeAt: gate.until, waitReason: 'quiet_hours' } };
    }
    if (gate.kind === 'hold') {
      return {
        state: {
          ...state,
          status: 'waiting',
          wakeAt: gate.recheckAt,
          waitReason: 'outcome',
          heldAt: context.now,
        },
      };
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
  // Only what happened before the branch's own time counts, however early a later event arrived.
  const since = isEventSinceEntry(branch.if)
    ? context.eventsSinceEntry.get(branch.if.eventSinceEntry)
    : undefined;
  const holds = isEventSinceEntry(branch.if)
    ? since !== undefined && since.getTime() < context.now.getTime()
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
  return { ...state, status: 'exited', wakeAt: null, waitReason: null, heldAt: null, exitReason: reason };
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
