import type { Channel, CustomerProfileSnapshot } from '@mmp/contracts';
import type { JourneyDefinition } from '@mmp/program';
import { messageIdOf } from './assignment';
import { decideSend, type LedgerEntry, type SendPolicies } from './send-policy';
import { advance, type InstanceState, type SendEffect, type SendGate } from './step-machine';

/** One instance to run, with what it runs on: its definition, zone, profile and history since entry. */
export interface RunInput {
  journey: JourneyDefinition;
  instance: InstanceState;
  timezone: string;
  profile: CustomerProfileSnapshot;
  eventsSinceEntry: ReadonlyMap<string, Date>;
}

/** A send the policies let through: what the ledger keeps for later caps and collisions. */
export interface SentMessage extends LedgerEntry {
  messageId: string;
  customerId: string;
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
 */
export function runInstances(
  inputs: readonly RunInput[],
  ledger: ReadonlyMap<string, readonly LedgerEntry[]>,
  settings: RunSettings,
): {
  states: InstanceState[];
  effects: { instance: InstanceState; effect: SendEffect }[];
  sent: SentMessage[];
} {
  const entriesOf = new Map(ledger);
  const states: InstanceState[] = [];
  const effects: { instance: InstanceState; effect: SendEffect }[] = [];
  const sent: SentMessage[] = [];
  for (const { journey, instance, timezone, profile, eventsSinceEntry } of inputs) {
    const { customerId, instanceId } = instance;
    const gateSend: SendGate = ({ stepId, template, at }) => {
      const channel = settings.channelOf(template);
      // A template the program dropped is reported (and skipped) by the caller, not decided here.
      if (!channel) return { kind: 'send' };
      const entries = entriesOf.get(customerId) ?? [];
      const send = { journeyKey: journey.key, priority: journey.priority, channel };
      const decision = decideSend(send, entries, settings.policies, at, timezone);
      if (decision.kind === 'send') {
        const entry = { ...send, sentAt: at, localDay: decision.localDay };
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
