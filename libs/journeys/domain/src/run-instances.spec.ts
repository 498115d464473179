import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { parseProgram } from '@mmp/program';
import { arrivalSegments, runInstances, type RunInput } from './run-instances';
import type { LedgerEntry } from './send-policy';
import { enterJourney } from './step-machine';

const PROGRAM = parseProgram(`
policies:
  timezone: America/New_York
  quietHours: { start: "21:00", end: "08:00", channels: [sms] }
  frequencyCaps: [{ channel: any, max: 1, per: 1d }]
milestones:
  - { key: low_moment, kind: nth_event, event: order.placed, n: 1 }
  - { key: high_moment, kind: nth_event, event: order.placed, n: 2 }
journeys:
  - { key: low, trigger: low_moment, priority: 1, steps: [{ id: s, send: { template: text } }] }
  - { key: high, trigger: high_moment, priority: 9, steps: [{ id: s, send: { template: text } }] }
templates:
  text: { channel: sms, body: Hi }
`);

const profile: CustomerProfileSnapshot = {
  customerId: 'c-1',
  traits: {},
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
const HOUR = 3_600_000;
const GRACE = 6 * HOUR;

function entering(key: string, enteredAt: Date): RunInput {
  const journey = PROGRAM.journeys.find((j) => j.key === key);
  if (!journey) throw new Error(key);
  return {
    journey,
    instance: enterJourney(journey, { customerId: 'c-1', occurrenceId: `occ-${key}` }, enteredAt),
    timezone: 'America/New_York',
    profile,
    eventsSinceEntry: new Map(),
  };
}

const settings = (now: Date) => ({
  now,
  graceMs: GRACE,
  policies: PROGRAM.policies,
  channelOf: (template: string) => PROGRAM.templates[template]?.channel,
});

const decisions = (run: ReturnType<typeof runInstances>) =>
  run.effects.map(({ instance, effect }) => [instance.journeyKey, effect.suppressedReason ?? 'sent']);

/** Runs each input alone, the ledger carried from one to the next. */
function oneByOne(inputs: readonly RunInput[], now: Date): string[][] {
  const ledger = new Map<string, LedgerEntry[]>();
  return inputs.flatMap((input) => {
    const run = runInstances([input], ledger, settings(now));
    for (const sent of run.sent) ledger.set(sent.customerId, [...(ledger.get(sent.customerId) ?? []), sent]);
    return decisions(run);
  });
}

describe('runInstances', () => {
  const noon = new Date('2030-06-21T16:00:00Z'); // 12:00 in New York

  it('decides a batch as its instances one by one, in arrival order, whatever the priorities', () => {
    for (const order of [
      ['low', 'high'],
      ['high', 'low'],
    ]) {
      const inputs = order.map((key) => entering(key, noon));
      expect(decisions(runInstances(inputs, new Map(), settings(noon)))).toEqual(oneByOne(inputs, noon));
    }
    // The higher priority always sends; the lower one only when it came first.
    expect(oneByOne([entering('low', noon), entering('high', noon)], noon)).toEqual([
      ['low', 'sent'],
      ['high', 'sent'],
    ]);
    expect(oneByOne([entering('high', noon), entering('low', noon)], noon)).toEqual([
      ['high', 'sent'],
      ['low', 'priority'],
    ]);
  });

  it('decides at the due time within the grace period, quiet hours included, and records the send then', () => {
    const dueAt = new Date('2030-06-22T00:55:00Z'); // 20:55 in New York, just before quiet hours
    const late = new Date(dueAt.getTime() + 15 * 60_000); // run at 21:10
    const run = runInstances([entering('low', dueAt)], new Map(), settings(late));
    expect(decisions(run)).toEqual([['low', 'sent']]);
    expect(run.sent.map((s) => s.sentAt)).toEqual([dueAt]);
    // Beyond the grace period it is judged when it runs: deferred to the end of quiet hours.
    const tooLate = new Date(dueAt.getTime() + GRACE + 60_000);
    const deferred = runInstances([entering('low', dueAt)], new Map(), settings(tooLate));
    expect(deferred.effects).toEqual([]);
    expect(deferred.states[0]).toMatchObject({ status: 'waiting', waitReason: 'quiet_hours' });
  });
});

describe('arrivalSegments', () => {
  it('cuts before a key seen in the current segment, keeping the order', () => {
    expect(arrivalSegments(['a1', 'b1', 'a2', 'c1', 'a3', 'b2'], (s) => s.charAt(0))).toEqual([
      ['a1', 'b1'],
      ['a2', 'c1'],
      ['a3', 'b2'],
    ]);
    expect(arrivalSegments([], (s: string) => s)).toEqual([]);
  });
});
