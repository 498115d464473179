import type { Deployment } from './deployment';
import type { ProviderCall } from './fakes';
import type { ConsentChannel, History } from './history';
import { callUntilAnswered, forEachLimited } from './http';

/** One message as `GET /v1/customers/{id}/messages` shows it, with its decision made comparable. */
export interface MessageRecord {
  messageId: string;
  customerId: string;
  channel: ConsentChannel;
  journeyKey: string;
  stepId: string;
  /** `sent` (or any later status), `suppressed:<reason>`, `failed:<reason>`, `queued`. */
  decision: string;
}

/** What a deployment ended with: every message decision, milestone occurrence and provider call. */
export interface Outcome {
  messages: Map<string, MessageRecord>;
  /** Per profile id, `key#occurrence` of every reached milestone. */
  milestones: Map<string, Set<string>>;
  calls: readonly ProviderCall[];
}

const SENT_STATUSES = new Set(['sent', 'delivered', 'opened', 'clicked', 'bounced']);

function decisionOf(status: string, reason: unknown): string {
  if (SENT_STATUSES.has(status)) return 'sent';
  if (status === 'suppressed' || status === 'failed') return `${status}:${String(reason)}`;
  return status;
}

/** Reads every profile's messages and milestones through the public API. */
export async function readOutcome(deployment: Deployment, profileIds: readonly string[]): Promise<Outcome> {
  const messages = new Map<string, MessageRecord>();
  const milestones = new Map<string, Set<string>>();
  const list = async (
    service: 'delivery' | 'milestones',
    path: string,
  ): Promise<Record<string, unknown>[]> => {
    const answer = await callUntilAnswered(() => deployment.url(service), path, 'GET', undefined);
    if (answer.status === 404) return [];
    if (answer.status !== 200 || !Array.isArray(answer.body)) {
      throw new Error(
        `${deployment.name} GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`,
      );
    }
    return answer.body.filter(
      (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
    );
  };
  await forEachLimited(profileIds, 12, async (profileId) => {
    const id = encodeURIComponent(profileId);
    for (const message of await list('delivery', `/v1/customers/${id}/messages`)) {
      const messageId = String(message['messageId']);
      messages.set(messageId, {
        messageId,
        customerId: profileId,
        channel: channelOf(message['channel']),
        journeyKey: String(message['journeyKey']),
        stepId: String(message['stepId']),
        decision: decisionOf(String(message['status']), message['reason']),
      });
    }
    const reached = await list('milestones', `/v1/customers/${id}/milestones`);
    milestones.set(profileId, new Set(reached.map((m) => `${String(m['key'])}#${String(m['occurrence'])}`)));
  });
  return { messages, milestones, calls: deployment.fakes.calls() };
}

function channelOf(value: unknown): ConsentChannel {
  if (value === 'email' || value === 'sms' || value === 'push') return value;
  throw new Error(`unknown channel ${String(value)}`);
}

/** Per run: the calls each provider received. */
export interface CallCounts {
  email: number;
  sms: number;
  push: number;
}

export interface Comparison {
  providerCalls: { chaos: CallCounts; oracle: CallCounts };
  /** Provider calls beyond one per message. */
  duplicatesSent: number;
  /** Messages the oracle sent and the chaos run did not. */
  missing: number;
  /** Calls made while the customer's consent recorded before that stage did not allow the channel. */
  unwanted: { chaos: number; oracle: number };
  /** Messages whose decision differs (missing ones included), or that only one run has. */
  mismatchedDecisions: number;
  /** Milestone occurrences that only one run reached. */
  milestoneDifferences: number;
  /** Messages recorded `failed: outcome_unknown` (a crash after the provider call) whose call was made once. */
  outcomeUnknown: number;
  /**
   * Messages the oracle sent that the chaos run recorded `failed: outcome_unknown` with no provider
   * call: handed over as delivery was killed, before the call. Delivery cannot tell them from
   * those whose call went out (no provider takes an idempotency key), so it never resends them:
   * at most once, never twice. Counted apart from `missing`, and bounded by the run.
   */
  lostAtHandover: number;
  messages: { chaos: number; oracle: number };
  occurrences: { chaos: number; oracle: number };
  /** The first differences, named. */
  differences: string[];
  /** How many differences each journey step (`journey/step`) and milestone (`milestone:key`) has. */
  differencesByKind: Record<string, number>;
}

const DIFFERENCES_NAMED = 12;

/** Compares the chaos run's outcome with the oracle's: see README, "Chaos run". */
export function compareOutcomes(history: History, chaos: Outcome, oracle: Outcome): Comparison {
  const owners = addressOwners(history);
  const differences: string[] = [];
  const name = (line: string) => {
    if (differences.length < DIFFERENCES_NAMED) differences.push(line);
  };
  const differencesByKind: Record<string, number> = {};
  const tally = (kind: string) => {
    differencesByKind[kind] = (differencesByKind[kind] ?? 0) + 1;
  };

  // Duplicates: a carried messageId called twice, or more SMS calls than SMS messages sent.
  let duplicatesSent = 0;
  const callsById = new Map<string, number>();
  for (const call of chaos.calls) {
    if (call.messageId) callsById.set(call.messageId, (callsById.get(call.messageId) ?? 0) + 1);
  }
  for (const [messageId, count] of callsById) {
    if (count > 1) {
      duplicatesSent += count - 1;
      name(`duplicate: ${messageId} reached the provider ${count} times`);
    }
  }
  let outcomeUnknown = 0;
  const smsCalls = countBy(
    chaos.calls.filter((c) => c.channel === 'sms'),
    (c) => owners.get(c.to) ?? c.to,
  );
  const smsSent = new Map<string, number>();
  const effective = new Map<string, string>();
  for (const message of chaos.messages.values()) {
    let decision = message.decision;
    if (decision === 'failed:outcome_unknown') {
      const called =
        message.channel === 'sms'
          ? (smsCalls.get(message.customerId) ?? 0) > (smsSent.get(message.customerId) ?? 0)
          : (callsById.get(message.messageId) ?? 0) > 0;
      if (called) {
        decision = 'sent';
        outcomeUnknown += 1;
      }
    }
    if (message.channel === 'sms' && decision === 'sent') {
      smsSent.set(message.customerId, (smsSent.get(message.customerId) ?? 0) + 1);
    }
    effective.set(message.messageId, decision);
  }
  for (const [customerId, calls] of smsCalls) {
    const sent = smsSent.get(customerId) ?? 0;
    if (calls > sent) {
      duplicatesSent += calls - sent;
      name(`duplicate: ${customerId} got ${calls} SMS for ${sent} sent messages`);
    }
  }

  // Decisions, message by message.
  let missing = 0;
  let lostAtHandover = 0;
  let mismatchedDecisions = 0;
  const ids = new Set([...chaos.messages.keys(), ...oracle.messages.keys()]);
  for (const messageId of [...ids].sort()) {
    const expected = oracle.messages.get(messageId);
    const got = chaos.messages.get(messageId);
    const expectedDecision = expected?.decision ?? 'none';
    const gotDecision = effective.get(messageId) ?? 'none';
    if (expectedDecision === gotDecision) continue;
    const about = expected ?? got;
    if (expectedDecision === 'sent' && gotDecision === 'failed:outcome_unknown') {
      lostAtHandover += 1;
      tally('lost at hand-over');
      continue;
    }
    mismatchedDecisions += 1;
    if (expectedDecision === 'sent') missing += 1;
    tally(`${about?.journeyKey}/${about?.stepId}`);
    name(
      `message ${messageId} (${about?.customerId}, ${about?.journeyKey}/${about?.stepId}, ${about?.channel}): oracle ${expectedDecision}, chaos ${gotDecision}`,
    );
  }

  // Milestone occurrences, profile by profile.
  let milestoneDifferences = 0;
  for (const profileId of history.profileIds) {
    const expected = oracle.milestones.get(profileId) ?? new Set<string>();
    const got = chaos.milestones.get(profileId) ?? new Set<string>();
    for (const occurrence of [...new Set([...expected, ...got])].sort()) {
      if (expected.has(occurrence) === got.has(occurrence)) continue;
      milestoneDifferences += 1;
      tally(`milestone:${occurrence.split('#')[0]}`);
      name(
        `milestone ${occurrence} of ${profileId}: ${expected.has(occurrence) ? 'reached by the oracle only' : 'reached by the chaos run only'}`,
      );
    }
  }

  return {
    providerCalls: { chaos: callCounts(chaos.calls), oracle: callCounts(oracle.calls) },
    duplicatesSent,
    missing,
    unwanted: {
      chaos: unwantedCalls(history, owners, chaos.calls, name),
      oracle: unwantedCalls(history, owners, oracle.calls),
    },
    mismatchedDecisions,
    milestoneDifferences,
    outcomeUnknown,
    lostAtHandover,
    messages: { chaos: chaos.messages.size, oracle: oracle.messages.size },
    occurrences: { chaos: occurrencesIn(chaos), oracle: occurrencesIn(oracle) },
    differences,
    differencesByKind,
  };
}

/**
 * Provider calls made after the customer's consent, as recorded by an earlier stage, stopped
 * allowing the channel: an opt-out of email or push, or no opt-in to SMS (an opt-in channel).
 */
function unwantedCalls(
  history: History,
  owners: ReadonlyMap<string, string>,
  calls: readonly ProviderCall[],
  name: (line: string) => void = () => undefined,
): number {
  const changes = new Map<string, { stage: number; status: string }[]>();
  history.stages.forEach((stage, index) => {
    if (stage.kind !== 'consent') return;
    for (const change of stage.changes) {
      const key = `${change.customerId}/${change.channel}`;
      const list = changes.get(key) ?? [];
      list.push({ stage: index, status: change.status });
      changes.set(key, list);
    }
  });
  let unwanted = 0;
  for (const call of calls) {
    const customerId = owners.get(call.to);
    if (!customerId) continue;
    const recorded = (changes.get(`${customerId}/${call.channel}`) ?? [])
      .filter((c) => c.stage < call.stage)
      .at(-1);
    const allowed =
      call.channel === 'sms' ? recorded?.status === 'opted_in' : recorded?.status !== 'opted_out';
    if (allowed) continue;
    unwanted += 1;
    name(
      `unwanted: ${call.channel} ${call.messageId ?? ''} to ${customerId} in stage ${call.stage}, consent ${recorded?.status ?? 'not given'}`,
    );
  }
  return unwanted;
}

/** Email addresses, phone numbers and push tokens of the history, to the customer they belong to. */
function addressOwners(history: History): Map<string, string> {
  const owners = new Map<string, string>();
  for (const stage of history.stages) {
    if (stage.kind !== 'events') continue;
    for (const { events } of stage.sequences) {
      for (const event of events) {
        if (!event.customerId) continue;
        for (const trait of ['email', 'phone']) {
          const value = event.traits?.[trait];
          if (typeof value === 'string') owners.set(value, event.customerId);
        }
        const token = event.type === 'push.token.registered' ? event.properties?.['token'] : undefined;
        if (typeof token === 'string') owners.set(token, event.customerId);
      }
    }
  }
  return owners;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

function callCounts(calls: readonly ProviderCall[]): CallCounts {
  return {
    email: calls.filter((c) => c.channel === 'email').length,
    sms: calls.filter((c) => c.channel === 'sms').length,
    push: calls.filter((c) => c.channel === 'push').length,
  };
}

function occurrencesIn(outcome: Outcome): number {
  let total = 0;
  for (const set of outcome.milestones.values()) total += set.size;
  return total;
}
