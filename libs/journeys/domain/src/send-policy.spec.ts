import type { FrequencyCap, QuietHours } from '@mmp/program';
import {
  decideSend,
  ledgerLookbackMs,
  localDayOf,
  neverReached,
  type LedgerEntry,
  type SendDecision,
} from './send-policy';

const ZONE = 'America/New_York';
const quietHours: QuietHours = { start: '21:00', end: '08:00', channels: ['sms', 'push'] };
const oneADay: FrequencyCap[] = [{ channel: 'any', max: 1, per: '1d' }];

/** An entry sent at `at` (UTC ISO), its local day computed in New York. */
function sent(journeyKey: string, priority: number, at: string, channel: LedgerEntry['channel'] = 'email') {
  const sentAt = new Date(at);
  return { journeyKey, priority, channel, sentAt, localDay: localDayOf(sentAt, ZONE) };
}

describe('decideSend', () => {
  // 2027-03-15 is a Monday; New York is on EDT (UTC-4) from 2027-03-14.
  const cases: {
    name: string;
    send: { journeyKey: string; priority: number; channel: LedgerEntry['channel'] };
    ledger: LedgerEntry[];
    caps?: FrequencyCap[];
    quiet?: QuietHours;
    now: string;
    expected: SendDecision;
  }[] = [
    {
      name: 'sends when nothing was sent',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [],
      caps: oneADay,
      now: '2027-03-15T14:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'suppresses over an `any` cap within the rolling window',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-14T15:00:00Z')],
      caps: oneADay,
      now: '2027-03-15T14:00:00Z',
      expected: { kind: 'suppress', reason: 'frequency_cap' },
    },
    {
      name: 'sends once the rolling window has passed (exactly `per` later)',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-14T14:00:00Z')],
      caps: oneADay,
      now: '2027-03-15T14:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'counts only its channel for a channel cap',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [sent('birthday', 10, '2027-03-15T13:00:00Z', 'email')],
      caps: [{ channel: 'sms', max: 1, per: '7d' }],
      now: '2027-03-15T14:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'suppresses at max for a channel cap',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [sent('a', 0, '2027-03-10T13:00:00Z', 'sms'), sent('b', 0, '2027-03-12T13:00:00Z', 'sms')],
      caps: [{ channel: 'sms', max: 2, per: '7d' }],
      now: '2027-03-15T14:00:00Z',
      expected: { kind: 'suppress', reason: 'frequency_cap' },
    },
    {
      name: 'suppresses a lower priority arriving after a higher one the same local day',
      send: { journeyKey: 'second_order_thanks', priority: 5, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-15T13:00:00Z')],
      now: '2027-03-15T20:00:00Z',
      expected: { kind: 'suppress', reason: 'priority' },
    },
    {
      name: 'reports priority rather than the cap when both would suppress',
      send: { journeyKey: 'second_order_thanks', priority: 5, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-15T13:00:00Z')],
      caps: oneADay,
      now: '2027-03-15T20:00:00Z',
      expected: { kind: 'suppress', reason: 'priority' },
    },
    {
      name: 'still sends a higher priority arriving after a lower one the same day, whatever the cap',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [sent('second_order_thanks', 5, '2027-03-15T13:00:00Z')],
      caps: oneADay,
      now: '2027-03-15T20:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'no collision on another local day (23:30 and 00:30 New York time)',
      send: { journeyKey: 'second_order_thanks', priority: 5, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-16T03:30:00Z')],
      now: '2027-03-16T04:30:00Z',
      expected: { kind: 'send', localDay: '2027-03-16' },
    },
    {
      name: 'a lower priority from the previous local day still counts for the cap',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [sent('second_order_thanks', 5, '2027-03-16T03:30:00Z')],
      caps: oneADay,
      now: '2027-03-16T04:30:00Z',
      expected: { kind: 'suppress', reason: 'frequency_cap' },
    },
    {
      name: 'equal priorities do not collide: the cap decides',
      send: { journeyKey: 'other', priority: 10, channel: 'email' },
      ledger: [sent('birthday', 10, '2027-03-15T13:00:00Z')],
      now: '2027-03-15T20:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'steps of one journey never collide with each other',
      send: { journeyKey: 'second_order_thanks', priority: 5, channel: 'email' },
      ledger: [sent('second_order_thanks', 5, '2027-03-15T13:00:00Z')],
      now: '2027-03-15T20:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'defers a quiet channel to the end of a window spanning midnight (22:00 local)',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [],
      quiet: quietHours,
      now: '2027-03-16T02:00:00Z',
      expected: { kind: 'defer', until: new Date('2027-03-16T12:00:00Z') },
    },
    {
      name: 'defers after midnight to the same morning (03:00 local)',
      send: { journeyKey: 'birthday', priority: 10, channel: 'push' },
      ledger: [],
      quiet: quietHours,
      now: '2027-03-16T07:00:00Z',
      expected: { kind: 'defer', until: new Date('2027-03-16T12:00:00Z') },
    },
    {
      name: 'sends at the end of the window itself (08:00 local)',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [],
      quiet: quietHours,
      now: '2027-03-16T12:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-16' },
    },
    {
      name: 'defers from the start of the window itself (21:00 local)',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [],
      quiet: quietHours,
      now: '2027-03-16T01:00:00Z',
      expected: { kind: 'defer', until: new Date('2027-03-16T12:00:00Z') },
    },
    {
      name: 'never defers a channel the window does not list',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [],
      quiet: quietHours,
      now: '2027-03-16T02:00:00Z',
      expected: { kind: 'send', localDay: '2027-03-15' },
    },
    {
      name: 'defers within a daytime window (12:00-14:00) to its end',
      send: { journeyKey: 'birthday', priority: 10, channel: 'email' },
      ledger: [],
      quiet: { start: '12:00', end: '14:00', channels: ['email'] },
      now: '2027-03-15T16:30:00Z',
      expected: { kind: 'defer', until: new Date('2027-03-15T18:00:00Z') },
    },
    {
      name: 'defers before judging caps: a capped send in quiet hours is deferred, not suppressed',
      send: { journeyKey: 'birthday', priority: 10, channel: 'sms' },
      ledger: [sent('birthday', 10, '2027-03-15T20:00:00Z', 'sms')],
      caps: oneADay,
      quiet: quietHours,
      now: '2027-03-16T02:00:00Z',
      expected: { kind: 'defer', until: new Date('2027-03-16T12:00:00Z') },
    },
  ];

  it.each(cases)('$name', ({ send, ledger, caps, quiet, now, expected }) => {
    const policies = { frequencyCaps: caps ?? [], ...(quiet && { quietHours: quiet }) };
    expect(decideSend(send, ledger, policies, new Date(now), ZONE)).toEqual(expected);
  });

  it('ends quiet hours at the local end across a daylight-saving change', () => {
    // 2027-03-14 02:00 New York springs forward: 22:00 EST on the 13th, window ends 08:00 EDT.
    const decision = decideSend(
      { journeyKey: 'j', priority: 0, channel: 'sms' },
      [],
      { frequencyCaps: [], quietHours },
      new Date('2027-03-14T03:00:00Z'),
      ZONE,
    );
    expect(decision).toEqual({ kind: 'defer', until: new Date('2027-03-14T12:00:00Z') });
  });

  it('reaches back the longest cap, and at least a local day from any zone', () => {
    expect(ledgerLookbackMs([])).toBe(26 * 3_600_000);
    expect(ledgerLookbackMs([{ channel: 'sms', max: 1, per: '7d' }])).toBe(7 * 86_400_000);
  });
});

describe('neverReached', () => {
  it('voids suppressed and failed sends, but keeps counting one whose outcome is unknown', () => {
    expect(neverReached('suppressed', 'consent')).toBe(true);
    expect(neverReached('failed', 'missing_address')).toBe(true);
    expect(neverReached('failed', 'retries_exhausted')).toBe(true);
    // A crash between the provider call and its record: it may have gone out.
    expect(neverReached('failed', 'outcome_unknown')).toBe(false);
    for (const status of ['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced'] as const) {
      expect(neverReached(status, null)).toBe(false);
    }
  });
});
