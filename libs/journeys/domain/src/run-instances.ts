import type { Channel, CustomerProfileSnapshot } from '@mmp/contracts';
import type { JourneyDefinition } from '@mmp/program';
import { messageIdOf } from './assignment';
import { decideSendOnOutcomes, type LedgerEntry, type SendPolicies } from './send-policy';
import { advance, type InstanceState, type SendEffect, type SendGate } from './step-machine';

/** One instance to run, with what it runs on: its definition, zone, profile and history since entry. */
export interface RunInput {
  journey: JourneyDefinition;
  instance: InstanceState;
  timezone: string;
  profile: CustomerProfileSnapshot;
  eventsSinceEntry: ReadonlyMap<string, Date>;
}

/**
 * How soon a send held for delivery's outcome of an earlier one looks again. The outcome
 * usually comes back within a second; the hold lasts at most the grace period.
 */
export const OUTCOME_RECHECK_MS = 1_000;

/** A send the policies let through: what the ledger keeps for later caps and collisions. */
export interface SentMessage extends LedgerEntry {
  messageId: string;
  customerId: string;
}

/** A send step held for an outcome (see decideSendOnOutcomes), and the time it will be decided at. */
export interface HeldSend {
  instanceId: string;
  heldAt: Date;
}

export interface RunSettings {
  now: Date;
  /** `milestoneGracePeriod`: how late a step is still decided at its own due time. */
  graceMs: number;
  policies: SendPolicies;
  /** The channel of a template of the program in force; undefined for one it dropped. */
  channelOf: (template: string) => Channel | undefined;
}

/**
 * Runs instances in the order given (the order their triggers and timers arrived), deciding
 * each send against the customer's ledger as it stands after the earlier ones, so a batch
 * decides exactly what the same instances run one by one would. Sends that go out are added to
 * the ledger at their decision time (not the moment of the run), which is what later caps count.
 * They are pending there, like every send delivery has not reported on: a later send that
 * depends on one is held (waits, to be decided at the same time) until its outcome is known,
 * unless it has already waited the whole grace period (`decideSendOnOutcomes`). A held send
 * holds the customer's sends decided for a later time too (`held`, those held before this run):
 * what it decides may count against them, so they wait for it.
 */
export function runInstances(
  inputs: readonly RunInput[],
  ledger: ReadonlyMap<string, readonly LedgerEntry[]>,
  settings: RunSettings,
  held: ReadonlyMap<string, readonly HeldSend[]> = new Map(),
): {
  states: InstanceState[];
  effects: { instance: InstanceState; effect: SendEffect }[];
  sent: SentMessage[];
} {
  const entriesOf = new Map(ledger);
  const heldOf = new Map(held);
  const states: InstanceState[] = [];
  const effects: { instance: InstanceState; effect: SendEffect }[] = [];
  const sent: SentMessage[] = [];
  for (const { journey, instance, timezone, profile, eventsSinceEntry } of inputs) {
    const { customerId, instanceId } = instance;
    const gateSend: SendGate = ({ stepId, template, at, dueAt }) => {
      const channel = settings.channelOf(template);
      // A template the program dropped is reported (and skipped) by the caller, not decided here.
      if (!channel) return { kind: 'send' };
      const entries = entriesOf.get(customerId) ?? [];
      const send = { journeyKey: journey.key, priority: journey.priority, channel };
      // Held at most for the grace period from the due time: then it is decided as it stands.
      const mayHold = settings.now.getTime() - dueAt.getTime() < settings.graceMs;
      const heldEarlier = (heldOf.get(customerId) ?? []).some(
        (h) => h.instanceId !== instanceId && h.heldAt.getTime() < at.getTime(),
      );
      const decision =
        mayHold && heldEarlier
          ? { kind: 'hold' as const }
          : decideSendOnOutcomes(send, entries, settings.policies, at, timezone, mayHold);
      if (decision.kind === 'hold') {
        return { kind: 'hold', recheckAt: new Date(settings.now.getTime() + OUTCOME_RECHECK_MS) };
      }
      if (decision.kind === 'send') {
        const entry = { ...send, sentAt: at, localDay: decision.localDay, pending: true };
        entriesOf.set(customerId, [...entries, entry]);
        sent.push({ ...entry, messageId: messageIdOf(instanceId, stepId), customerId });
      }
      return decision;
    };
    const run = advance(journey, instance, {
      now: settings.now,
      graceMs: settings.graceMs,
      timezone,
      eventsSinceEntry,
      profile,
      gateSend,
    });
    const others = (heldOf.get(customerId) ?? []).filter((h) => h.instanceId !== instanceId);
    const { heldAt } = run.instance;
    const stillHeld = run.instance.waitReason === 'outcome' && heldAt ? [{ instanceId, heldAt }] : [];
    heldOf.set(customerId, [...others, ...stillHeld]);
    states.push(run.instance);
    for (const effect of run.effects) effects.push({ instance: run.instance, effect });
  }
  return { states, effects, sent };
}

/**
 * Splits a batch of arrivals into consecutive segments in which no key (journey and customer)
 * appears twice, to be entered and run one segment after the other. Re-entry is decided
 * against the instance the earlier arrival left (a journey that completed at once is entered
 * again, one still waiting is not), exactly as if they had come in separate batches, and a
 * redelivered trigger in the same batch finds its instance already there.
 */
export function arrivalSegments<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const segments: T[][] = [];
  let current: T[] = [];
  let keys = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (keys.has(key)) {
      segments.push(current);
      current = [];
      keys = new Set();
    }
    current.push(item);
    keys.add(key);
  }
  if (current.length > 0) segments.push(current);
  return segments;
}
