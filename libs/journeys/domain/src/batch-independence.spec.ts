import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { parseDuration, parseProgram, type JourneyDefinition } from '@mmp/program';
import fc from 'fast-check';
import {
  arrivalSegments,
  OUTCOME_RECHECK_MS,
  runInstances,
  type HeldSend,
  type RunInput,
  type SentMessage,
} from './run-instances';
import {
  enterJourney,
  entryTimeOf,
  exitOnEvent,
  goalWindowOf,
  sinceEntryOf,
  type InstanceState,
} from './step-machine';

/**
 * The rule of issue 13 for journeys: for one program, clock and history, every messageId gets
 * the same decision (sent, suppressed with its reason, none) and every instance ends the same
 * (status, exit reason, goal), whatever the batching of milestones and customer events, the
 * interleaving of the two topics (an event may reach journeys before the milestone it follows),
 * consumer lag up to the next clock move, timer claims of any size, and redelivery.
 *
 * The model below is what the journeys service does with these domain functions, one batch at
 * a time (EnterJourneysUsecase, TrackCustomerEventsUsecase, FireDueTimersUsecase, JourneyStore):
 * instances unique per occurrence and one live per journey and customer, events kept once per
 * eventId, goals the earliest goal event within the window, the ledger of sends that went out.
 * Delivery reports on every send (RecordSendOutcomesUsecase): it suppresses the SMS of c-2 (as
 * for consent, voiding it from the ledger) and sends the rest; its reports come back late, even
 * after the timers of the next clock move fired, and a send that depends on one is held for it.
 */

const PROGRAM = parseProgram(`
policies:
  timezone: America/New_York
  quietHours: { start: "21:00", end: "08:00", channels: [sms] }
  frequencyCaps:
    - { channel: any, max: 2, per: 1d }
    - { channel: email, max: 1, per: 3h }
milestones:
  - { key: m_hi, kind: nth_event, event: order.placed, n: 1 }
  - { key: m_mid, kind: nth_event, event: order.placed, n: 2 }
  - { key: m_lo, kind: nth_event, event: order.placed, n: 3 }
journeys:
  - key: welcome
    trigger: m_hi
    priority: 10
    holdoutPercent: 50
    goal: { event: order.placed, withinDays: 1 }
    exitOn: [cart.abandoned]
    steps:
      - { id: hello, send: { template: hello_email } }
      - { id: pause, wait: { hours: 2 } }
      - { id: check, branch: { if: { eventSinceEntry: product.viewed }, then: nudge, else: exit } }
      - { id: nudge, send: { template: nudge_sms } }
  - key: reminder
    trigger: m_mid
    priority: 5
    steps:
      - { id: later, wait: { minutes: 45 } }
      - { id: remind, send: { template: remind_sms } }
      - { id: follow, send: { template: hello_email } }
  - key: promo
    trigger: m_lo
    priority: 1
    goal: { event: order.placed, withinDays: 2 }
    steps:
      - { id: offer, send: { template: promo_email } }
templates:
  hello_email: { channel: email, subject: Hi, text: Hi }
  promo_email: { channel: email, subject: Deal, text: Deal }
  nudge_sms: { channel: sms, body: Still there? }
  remind_sms: { channel: sms, body: Reminder }
`);

// c-4 is in the welcome journey's holdout (a stable hash), the others are not.
const CUSTOMERS = ['c-1', 'c-2', 'c-4'];
const ZONES: Record<string, string> = {
  'c-1': 'America/New_York',
  'c-2': 'Asia/Tokyo',
  'c-4': 'Europe/Oslo',
};
const MILESTONES = ['m_hi', 'm_mid', 'm_lo'];
const EVENT_TYPES = ['order.placed', 'product.viewed', 'cart.abandoned'];
const START = Date.parse('2027-03-15T11:30:00Z');
const MINUTE = 60_000;
/** Delivery suppresses these customers' sends on these channels (as for consent). */
const UNSENT = new Set(['c-1/email', 'c-2/sms']);
const GRACE_MS = parseDuration(PROGRAM.policies.milestoneGracePeriod);

function profileOf(customerId: string): CustomerProfileSnapshot {
  return {
    customerId,
    traits: { timezone: ZONES[customerId] },
    attributes: {
      lifetimeOrders: 0,
      lifetimeValue: '0.00',
      currency: null,
      firstOrderAt: null,
      lastOrderAt: null,
      registeredAt: null,
      eventCounts: {},
    },
  };
}

interface Reached {
  kind: 'milestone';
  customerId: string;
  milestoneKey: string;
  occurrenceId: string;
  reachedAt: Date;
  causeEventId: string | null;
}
interface Happened {
  kind: 'event';
  customerId: string;
  eventId: string;
  type: string;
  occurredAt: Date;
}
interface ClockMove {
  kind: 'clock';
  to: Date;
}
type Step = Reached | Happened | ClockMove;

/** A history: events (some late, some redelivered), milestones they cause (some redelivered), clock moves. */
const historyArbitrary = fc
  .array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('event' as const),
          customer: fc.constantFrom(...CUSTOMERS),
          type: fc.constantFrom(...EVENT_TYPES),
          // Up to an hour before the clock: some happened before the entry they are compared with.
          minutesAgo: fc.integer({ min: 0, max: 60 }),
          redeliver: fc.nat({ max: 5 }),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('milestone' as const),
          customer: fc.constantFrom(...CUSTOMERS),
          key: fc.constantFrom(...MILESTONES),
          redeliver: fc.nat({ max: 5 }),
          caused: fc.boolean(),
        }),
      },
      // Clock moves stay within the grace period (decided at due times on both sides).
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('clock' as const),
          minutes: fc.integer({ min: 1, max: 150 }),
        }),
      },
    ),
    { minLength: 1, maxLength: 60 },
  )
  .map((specs): Step[] => {
    let clock = START;
    const steps: Step[] = [];
    const last = new Map<string, Happened>();
    specs.forEach((spec, index) => {
      if (spec.kind === 'clock') {
        clock += spec.minutes * MINUTE;
        steps.push({ kind: 'clock', to: new Date(clock) });
        return;
      }
      const earlier = steps.filter((s) => s.kind === spec.kind);
      // A redelivery repeats an earlier step of the same kind as it was (0 of 5 means a new one).
      const again = spec.redeliver === 0 ? earlier[index % Math.max(earlier.length, 1)] : undefined;
      if (again) {
        steps.push(again);
        return;
      }
      if (spec.kind === 'event') {
        const event: Happened = {
          kind: 'event',
          customerId: spec.customer,
          eventId: `e-${index}`,
          type: spec.type,
          occurredAt: new Date(clock - spec.minutesAgo * MINUTE),
        };
        last.set(spec.customer, event);
        steps.push(event);
        return;
      }
      // m_hi is an nth_event: once per customer (later ones are redeliveries). Re-entry is judged
      // on what journeys knows when the milestone comes (README), so a second occurrence racing
      // the exitOn event of the first is left out: that one legitimately depends on arrival.
      const first = steps.find(
        (s) => s.kind === 'milestone' && s.milestoneKey === 'm_hi' && s.customerId === spec.customer,
      );
      if (spec.key === 'm_hi' && first) {
        steps.push(first);
        return;
      }
      // Likewise a second occurrence before the clock moved on: the first one's instance may
      // still be held for delivery's report on a send (README), so re-entry depends on arrival.
      const sinceMove = steps.slice(steps.findLastIndex((s) => s.kind === 'clock') + 1);
      const recent = sinceMove.find(
        (s) => s.kind === 'milestone' && s.milestoneKey === spec.key && s.customerId === spec.customer,
      );
      if (recent) {
        steps.push(recent);
        return;
      }
      const cause = spec.caused ? last.get(spec.customer) : undefined;
      steps.push({
        kind: 'milestone',
        customerId: spec.customer,
        milestoneKey: spec.key,
        occurrenceId: `occ-${index}`,
        reachedAt: new Date(clock),
        causeEventId: cause?.eventId ?? null,
      });
    });
    return steps;
  });

interface Instance {
  journey: JourneyDefinition;
  state: InstanceState;
  causeEventId: string | null;
  goal: { event: string; endsAt: Date } | null;
  goalReachedAt: Date | null;
}

/** The journeys service's tables, in memory, and its three use cases over them. */
class JourneysModel {
  readonly instances = new Map<string, Instance>();
  readonly events = new Map<string, Happened>();
  readonly ledger = new Map<string, SentMessage[]>();
  /** Sends delivery has yet to report on, in the order it got them. */
  readonly unreported: SentMessage[] = [];
  /** messageId -> decision, the first one written (the outbox and delivery keep the first). */
  readonly decisions = new Map<string, string>();
  /** How many runs held a send for an outcome (the generator must exercise it). */
  holds = 0;

  /** Delivery's reports on the `count` oldest sends it has not reported on yet. */
  report(count = Number.POSITIVE_INFINITY): void {
    for (const sent of this.unreported.splice(0, count)) {
      const unsent = UNSENT.has(`${sent.customerId}/${sent.channel}`);
      const entries = this.ledger.get(sent.customerId) ?? [];
      this.ledger.set(
        sent.customerId,
        entries.flatMap((e) =>
          e.messageId !== sent.messageId ? [e] : unsent ? [] : [{ ...e, pending: false }],
        ),
      );
    }
  }

  /**
   * The scheduler's look at held sends due to be looked at again by `now`. With `settle`,
   * delivery reports at once after each look, and the looks go on, a recheck apart, until no
   * send is held.
   */
  fireHeld(now: Date, settle = false): void {
    for (let at = now, looks = 0; looks < 100; at = new Date(at.getTime() + OUTCOME_RECHECK_MS), looks++) {
      const due = [...this.instances.values()].filter(
        (i) => isHeld(i.state) && i.state.wakeAt && i.state.wakeAt <= at,
      );
      this.run(
        due.map((i) => this.inputOf(i)),
        at,
      );
      if (!settle) return;
      this.report();
      if (![...this.instances.values()].some((i) => isHeld(i.state))) return;
    }
    throw new Error('sends still held after 100 looks with every report in');
  }

  enter(batch: readonly Reached[], now: Date): void {
    const candidates = batch.flatMap((milestone) =>
      PROGRAM.journeys
        .filter((journey) => journey.trigger === milestone.milestoneKey)
        .map((journey) => ({ journey, milestone })),
    );
    for (const segment of arrivalSegments(candidates, (c) => `${c.journey.key}/${c.milestone.customerId}`)) {
      const started: RunInput[] = [];
      for (const { journey, milestone } of segment) {
        const enteredAt = entryTimeOf(milestone.reachedAt, now);
        const state = enterJourney(journey, milestone, enteredAt);
        const live = [...this.instances.values()].some(
          (i) =>
            i.journey.key === journey.key && i.state.customerId === milestone.customerId && isLive(i.state),
        );
        if (this.instances.has(state.instanceId) || live) continue;
        const instance: Instance = {
          journey,
          state,
          causeEventId: milestone.causeEventId,
          goal: goalWindowOf(journey, enteredAt, ZONES[milestone.customerId] ?? 'UTC'),
          goalReachedAt: null,
        };
        this.instances.set(state.instanceId, instance);
        this.recordGoal(instance, this.historyOf(milestone.customerId));
        started.push(this.inputOf(instance));
      }
      this.run(started, now);
    }
  }

  track(batch: readonly Happened[]): void {
    const fresh = batch.filter((event) => !this.events.has(event.eventId));
    for (const event of fresh) this.events.set(event.eventId, event);
    for (const instance of this.instances.values()) {
      this.recordGoal(instance, batch);
      if (!isLive(instance.state)) continue;
      for (const event of batch) {
        if (event.customerId !== instance.state.customerId || event.eventId === instance.causeEventId)
          continue;
        instance.state = exitOnEvent(instance.journey, instance.state, event);
      }
    }
  }

  /**
   * Fires the timers due by `dueBy`, oldest first, at `now` (a scheduler running late), in
   * claims of the given sizes (the last size repeats).
   */
  fireDue(dueBy: Date, now: Date, claimSizes: readonly number[]): void {
    for (let claim = 0; ; claim++) {
      const due = [...this.instances.values()]
        .filter((i) => i.state.status === 'waiting' && i.state.wakeAt && i.state.wakeAt <= dueBy)
        .sort(
          (a, b) =>
            (a.state.wakeAt?.getTime() ?? 0) - (b.state.wakeAt?.getTime() ?? 0) ||
            a.state.instanceId.localeCompare(b.state.instanceId),
        )
        .slice(0, claimSizes[Math.min(claim, claimSizes.length - 1)] ?? 1);
      if (due.length === 0) return;
      this.run(
        due.map((i) => this.inputOf(i)),
        now,
      );
    }
  }

  private run(inputs: readonly RunInput[], now: Date): void {
    const held = new Map<string, HeldSend[]>();
    for (const { state } of this.instances.values()) {
      if (!isHeld(state) || !state.heldAt) continue;
      held.set(state.customerId, [
        ...(held.get(state.customerId) ?? []),
        { instanceId: state.instanceId, heldAt: state.heldAt },
      ]);
    }
    const { states, effects, sent } = runInstances(
      inputs,
      this.ledger,
      {
        now,
        graceMs: GRACE_MS,
        policies: PROGRAM.policies,
        channelOf: (template) => PROGRAM.templates[template]?.channel,
      },
      held,
    );
    for (const state of states) {
      const instance = this.instances.get(state.instanceId);
      if (instance) instance.state = state;
    }
    for (const entry of sent)
      this.ledger.set(entry.customerId, [...(this.ledger.get(entry.customerId) ?? []), entry]);
    this.unreported.push(...sent);
    this.holds += states.filter(isHeld).length;
    for (const { effect } of effects) {
      if (!this.decisions.has(effect.messageId))
        this.decisions.set(
          effect.messageId,
          effect.suppressedReason ? `suppressed:${effect.suppressedReason}` : 'sent',
        );
    }
  }

  private inputOf(instance: Instance): RunInput {
    return {
      journey: instance.journey,
      instance: instance.state,
      timezone: ZONES[instance.state.customerId] ?? 'UTC',
      profile: profileOf(instance.state.customerId),
      eventsSinceEntry: sinceEntryOf(
        { enteredAt: instance.state.enteredAt, causeEventId: instance.causeEventId },
        this.historyOf(instance.state.customerId),
      ),
    };
  }

  private historyOf(customerId: string): Happened[] {
    return [...this.events.values()].filter((e) => e.customerId === customerId);
  }

  private recordGoal(instance: Instance, events: readonly Happened[]): void {
    const goal = instance.goal;
    if (!goal) return;
    for (const event of events) {
      if (event.customerId !== instance.state.customerId || event.type !== goal.event) continue;
      if (event.eventId === instance.causeEventId) continue;
      if (event.occurredAt < instance.state.enteredAt || event.occurredAt > goal.endsAt) continue;
      if (!instance.goalReachedAt || event.occurredAt < instance.goalReachedAt)
        instance.goalReachedAt = event.occurredAt;
    }
  }

  /** What must not depend on delivery: every decision, and how every instance stands. */
  outcome(): { decisions: Record<string, string>; instances: Record<string, string> } {
    const instances: Record<string, string> = {};
    for (const [id, i] of this.instances) {
      const s = i.state;
      instances[id] = [
        s.journeyKey,
        s.customerId,
        s.group,
        s.status,
        s.stepIndex,
        s.wakeAt?.toISOString(),
        s.exitReason,
        i.goalReachedAt?.toISOString(),
      ].join(' ');
    }
    return { decisions: Object.fromEntries([...this.decisions].sort()), instances };
  }
}

function isLive(state: InstanceState): boolean {
  return state.status === 'active' || state.status === 'waiting';
}

function isHeld(state: InstanceState): boolean {
  return state.status === 'waiting' && state.waitReason === 'outcome';
}

/**
 * The oracle: every milestone and event alone, at the moment the history puts it, timers on
 * time, delivery's report on each send at once.
 */
function oracle(history: readonly Step[]): JourneysModel {
  const model = new JourneysModel();
  let now = new Date(START);
  const settle = (): void => {
    model.report();
    model.fireHeld(now, true);
  };
  for (const step of history) {
    if (step.kind === 'clock') {
      now = step.to;
      model.fireDue(now, now, [1]);
    } else if (step.kind === 'milestone') model.enter([step], now);
    else model.track([step]);
    settle();
  }
  return model;
}

/**
 * The same history as a service sees it: between two clock moves, milestones and events come as
 * two topics, each in its order, interleaved and batched as `choices` say, each batch handled up
 * to 50 minutes late (consumer lag); timers fire after each clock move, up to 30 minutes late,
 * in claims of sizes from `choices`.
 */
function delivered(history: readonly Step[], choices: readonly number[]): JourneysModel {
  const model = new JourneysModel();
  let next = 0;
  const choose = (n: number): number =>
    choices.length === 0 ? 0 : (choices[next++ % choices.length] ?? 0) % n;
  let clock = START;
  const flush = (segment: Step[], until: number): void => {
    const milestones = segment.filter((s): s is Reached => s.kind === 'milestone');
    const events = segment.filter((s): s is Happened => s.kind === 'event');
    // Lag grows within a segment and stays short of the next clock move.
    const room = Math.max(0, Math.min(50 * MINUTE, until - clock - 1));
    let lag = 0;
    while (milestones.length > 0 || events.length > 0) {
      lag = Math.min(room, lag + choose(15) * MINUTE);
      const now = new Date(clock + lag);
      const fromMilestones = events.length === 0 || (milestones.length > 0 && choose(2) === 0);
      const size = 1 + choose(4);
      if (fromMilestones) model.enter(milestones.splice(0, size), now);
      else model.track(events.splice(0, size));
      // Delivery's reports trickle in, late; held sends are looked at again meanwhile.
      if (choose(3) === 0) model.report(choose(3));
      model.fireHeld(now);
    }
  };
  let segment: Step[] = [];
  for (const step of history) {
    if (step.kind !== 'clock') {
      segment.push(step);
      continue;
    }
    flush(segment, step.to.getTime());
    segment = [];
    clock = step.to.getTime();
    // The scheduler runs late, on the timers due at the move: one due later fires in its own
    // time, and a timer does not wait for events that occurred before it but arrive after (README).
    const late = choose(31) * MINUTE;
    const firedAt = new Date(clock + late);
    model.fireDue(step.to, firedAt, [1 + choose(3), 1 + choose(3)]);
    // Reports from before the move may come only now, after the timers that depend on them.
    model.fireHeld(firedAt);
    model.report();
    model.fireHeld(firedAt, true);
  }
  flush(segment, Number.POSITIVE_INFINITY);
  model.report();
  model.fireHeld(new Date(clock + 60 * MINUTE), true);
  return model;
}

describe('journeys: the same history gives the same journey effects however it is delivered', () => {
  it('decides every message and ends every instance the same for any batching, interleaving, lag and redelivery', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        (history, choices) => {
          expect(delivered(history, choices).outcome()).toEqual(oracle(history).outcome());
        },
      ),
      { numRuns: 400 },
    );
  });

  it('exercises what it claims: sends, suppressions of each kind, exits, branches, goals and holdouts', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const { decisions, instances } = oracle(history).outcome();
        // Sends held for delivery's late report (the oracle's reports come at once).
        if (delivered(history, [0, 2, 1, 0, 3]).holds > 0) seen.add('held');
        for (const decision of Object.values(decisions)) seen.add(decision);
        for (const line of Object.values(instances)) {
          const [, , group, status, , , exitReason, goal] = line.split(' ');
          seen.add(`${group}`);
          if (status === 'exited') seen.add(`exit:${exitReason?.split(':')[0]}`);
          if (goal) seen.add('goal');
        }
      }),
      // A fixed seed: 13this checks the generator, so it must not depend on luck.
      { numRuns: 300, seed: 13 },
    );
    expect([...seen].sort()).toEqual(
      [
        'exit:branch',
        'exit:exit_on',
        'goal',
        'held',
        'holdout',
        'sent',
        'suppressed:frequency_cap',
        'suppressed:priority',
        'treatment',
      ].sort(),
    );
  });
});
