import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { parseProgram } from '@mmp/program';
import { arrivalSegments, OUTCOME_RECHECK_MS, runInstances, type RunInput } from './run-instances';
import type { LedgerEntry } from './send-policy';
import { enterJourney, type InstanceState } from './step-machine';

const PROGRAM = parseProgram(`
policies:
  timezone: America/New_York
  quietHours: { start: "21:00", end: "08:00", channels: [sms] }
  frequencyCaps: [{ channel: any, max: 1, per: 1d }]
milestones:
  - { key: low_moment, kind: nth_event, event: order.placed, n: 1 }
  - { key: high_moment, kind: nth_event, event: order.placed, n: 2 }
  - { key: mid_moment, kind: nth_event, event: order.placed, n: 3 }
journeys:
  - { key: low, trigger: low_moment, priority: 1, steps: [{ id: s, send: { template: text } }] }
  - { key: high, trigger: high_moment, priority: 9, steps: [{ id: s, send: { template: text } }] }
  - { key: mid, trigger: mid_moment, priority: 5, steps: [{ id: s, send: { template: text } }] }
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

const isHeld = (state: InstanceState) => state.status === 'waiting' && state.waitReason === 'outcome';

/**
 * Runs the inputs in batches as the service does: after each run delivery reports on every send
 * (`unsent` names the journeys whose sends it suppressed, e.g. for consent), and the instances
 * held for those reports run again once their recheck time has come. Returns every decision.
 */
function inBatches(
  batches: readonly (readonly RunInput[])[],
  now: Date,
  unsent: readonly string[] = [],
): string[][] {
  let ledger = new Map<string, LedgerEntry[]>();
  const decided: string[][] = [];
  const report = () => {
    ledger = new Map(
      [...ledger].map(([customer, entries]) => [
        customer,
        entries.filter((e) => !unsent.includes(e.journeyKey)).map((e) => ({ ...e, pending: false })),
      ]),
    );
  };
  for (const batch of batches) {
    let inputs = batch;
    let at = now;
    while (inputs.length > 0) {
      const run = runInstances(inputs, ledger, settings(at));
      for (const sent of run.sent)
        ledger.set(sent.customerId, [...(ledger.get(sent.customerId) ?? []), sent]);
      decided.push(...decisions(run));
      report();
      at = new Date(at.getTime() + OUTCOME_RECHECK_MS);
      inputs = run.states.filter(isHeld).map((instance) => {
        const input = inputs.find((i) => i.instance.instanceId === instance.instanceId);
        if (!input) throw new Error(instance.instanceId);
        return { ...input, instance };
      });
    }
  }
  return decided;
}

/** Runs each input alone, the ledger carried from one to the next. */
function oneByOne(inputs: readonly RunInput[], now: Date, unsent: readonly string[] = []): string[][] {
  return inBatches(
    inputs.map((input) => [input]),
    now,
    unsent,
  );
}

describe('runInstances', () => {
  const noon = new Date('2030-06-21T16:00:00Z'); // 12:00 in New York

  it('decides a batch as its instances one by one, in arrival order, whatever the priorities', () => {
    for (const order of [
      ['low', 'high'],
      ['high', 'low'],
    ]) {
      const inputs = order.map((key) => entering(key, noon));
      expect(inBatches([inputs], noon)).toEqual(oneByOne(inputs, noon));
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

  it('holds a send that an earlier one decides until delivery reported on it, whatever the batching', () => {
    // `high` went out first; whether `low` loses the collision depends on what became of it.
    const run = runInstances([entering('high', noon), entering('low', noon)], new Map(), settings(noon));
    expect(decisions(run)).toEqual([['high', 'sent']]);
    expect(run.states[1]).toMatchObject({ status: 'waiting', waitReason: 'outcome', heldAt: noon });
    expect(run.sent).toEqual([expect.objectContaining({ journeyKey: 'high', pending: true })]);
    for (const unsent of [[], ['high']]) {
      const inputs = [entering('high', noon), entering('low', noon)];
      const expected = unsent.length === 0 ? 'priority' : 'sent';
      expect(oneByOne(inputs, noon, unsent)).toEqual([
        ['high', 'sent'],
        ['low', expected],
      ]);
      expect(inBatches([inputs], noon, unsent)).toEqual(oneByOne(inputs, noon, unsent));
    }
  });

  it('decides a held send at its own decision time, and counts a send never reported on once the grace period is over', () => {
    const [high, low] = [entering('high', noon), entering('low', noon)];
    const held = runInstances([high, low], new Map(), settings(noon));
    const ledger = new Map([['c-1', held.sent]]);
    const heldLow = { ...low, instance: held.states[1] as InstanceState };
    // Still unreported a while later, within the grace period: held again, for the same time.
    const later = new Date(noon.getTime() + HOUR);
    const again = runInstances([heldLow], ledger, settings(later));
    expect(again.effects).toEqual([]);
    expect(again.states[0]).toMatchObject({ waitReason: 'outcome', heldAt: noon });
    // Reported as sent: decided at noon (the collision of that day), not when it ran.
    const reported = new Map([['c-1', held.sent.map((e) => ({ ...e, pending: false }))]]);
    const recheck = new Date(later.getTime() + OUTCOME_RECHECK_MS);
    const decided = runInstances(
      [{ ...heldLow, instance: again.states[0] as InstanceState }],
      reported,
      settings(recheck),
    );
    expect(decisions(decided)).toEqual([['low', 'priority']]);
    // Never reported within the grace period: the pending send counts as sent.
    const tooLate = new Date(noon.getTime() + GRACE + 1);
    expect(decisions(runInstances([heldLow], ledger, settings(tooLate)))).toEqual([['low', 'priority']]);
  });

  it('holds the later sends of a customer behind a held one, since what it decides counts against them', () => {
    const eleven = new Date(noon.getTime() - HOUR);
    const one = new Date(noon.getTime() + HOUR);
    const highSent = runInstances([entering('high', eleven)], new Map(), settings(eleven)).sent;
    // `mid` at noon waits for what became of `high`...
    const mid = entering('mid', noon);
    const held = runInstances([mid], new Map([['c-1', highSent]]), settings(noon)).states[0] as InstanceState;
    expect(held).toMatchObject({ waitReason: 'outcome', heldAt: noon });
    // ...which delivery suppressed (consent, say): the ledger is empty, but `low` at 13:00 must
    // still wait for `mid`, whose noon send, once decided, wins the day's collision.
    const heldSends = new Map([['c-1', [{ instanceId: held.instanceId, heldAt: noon }]]]);
    const low = runInstances([entering('low', one)], new Map(), settings(one), heldSends);
    expect(low.effects).toEqual([]);
    expect(low.states[0]).toMatchObject({ waitReason: 'outcome', heldAt: one });
    // Run together after the report, the held `mid` decides first (it holds `low` again in
    // the same run whichever comes first), then `low` loses the collision.
    const later = new Date(one.getTime() + OUTCOME_RECHECK_MS);
    const both = [
      { ...entering('low', one), instance: low.states[0] as InstanceState },
      { ...mid, instance: held },
    ];
    const first = runInstances(both, new Map(), settings(later), heldSends);
    expect(decisions(first)).toEqual([['mid', 'sent']]);
    const recheck = new Date(later.getTime() + OUTCOME_RECHECK_MS);
    const lowAgain = { ...entering('low', one), instance: first.states[0] as InstanceState };
    const second = runInstances(
      [lowAgain],
      new Map([['c-1', first.sent.map((e) => ({ ...e, pending: false }))]]),
      settings(recheck),
    );
    expect(decisions(second)).toEqual([['low', 'priority']]);
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
