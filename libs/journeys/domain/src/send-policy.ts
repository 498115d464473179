import type { Channel, MessageStatus } from '@mmp/contracts';
import { parseDuration, parseTimeOfDay, type FrequencyCap, type QuietHours } from '@mmp/program';
import { DateTime } from 'luxon';

/**
 * The policies a journey send passes at the moment it would go out, in the customer's local
 * time (SPEC section 5), checked in this order:
 *
 * 1. Quiet hours: a send on a quiet channel inside the local window is deferred to the window's
 *    end (the next local `end`), and judged again then, so caps and collisions see the real time.
 * 2. Priority collisions, per local calendar day: a send is suppressed (`priority`) when this
 *    customer was already sent, earlier on the same local day, a message of another journey with a
 *    strictly higher priority. A lower-priority message that went out first is never undone; a
 *    higher-priority one arriving later that day still sends: it ignores the lower-priority sends
 *    of that day when counting caps, since it won the collision.
 * 3. Frequency caps: for every cap on this channel (or `any`), the messages sent within the
 *    rolling window `(now - per, now]` are counted; at `max` or more the send is suppressed
 *    (`frequency_cap`). Steps of the same journey count against each other like any message.
 *
 * Only messages that may have reached the customer count: suppressed ones never enter the
 * ledger, and those delivery later suppressed or failed (consent, no address...) are voided
 * from it (`neverReached`), but for a failure whose outcome is unknown.
 *
 * 4. Outcomes first (`decideSendOnOutcomes`): a send whose decision depends on an earlier send
 *    delivery has not reported on yet (counting it suppresses, not counting it sends, or the
 *    reason differs) is held until that outcome is known, so the decision never depends on how
 *    fast delivery's report came back.
 */

/** A message a journey sent this customer: what caps count and collisions compare against. */
export interface LedgerEntry {
  journeyKey: string;
  priority: number;
  channel: Channel;
  sentAt: Date;
  /** The customer's local date (`yyyy-MM-dd`) when it was sent. */
  localDay: string;
  /**
   * True while delivery has not reported what became of it (sent, queued for a retry,
   * suppressed, failed): it may yet be voided. Absent or false once reported.
   */
  pending?: boolean;
}

export interface PendingSend {
  journeyKey: string;
  priority: number;
  channel: Channel;
}

export interface SendPolicies {
  quietHours?: QuietHours;
  frequencyCaps: readonly FrequencyCap[];
}

export type SuppressionReason = 'priority' | 'frequency_cap';

export type SendDecision =
  | { kind: 'send'; localDay: string }
  | { kind: 'defer'; until: Date }
  | { kind: 'suppress'; reason: SuppressionReason };

/** `hold`: the decision waits for delivery's outcome of earlier sends (see decideSendOnOutcomes). */
export type SendDecisionOnOutcomes = SendDecision | { kind: 'hold' };

/**
 * Whether delivery's report on a send means it never reached the customer, so that it stops
 * counting for caps and collisions: suppressed, or failed. Not a failure whose outcome is
 * unknown (a crash between the provider call and its record): the call may have been made, and
 * a message too many is worse than one too few. Counting it also keeps the decision the same as
 * where no crash happened, when the call had gone out.
 */
export function neverReached(status: MessageStatus, reason: string | null): boolean {
  if (status === 'suppressed') return true;
  return status === 'failed' && reason !== 'outcome_unknown';
}

/**
 * Decides a send as `decideSend` does, unless the outcome of a pending entry (one delivery has
 * not reported on) could change the decision: then `hold`, and the caller decides again, at
 * the same decision time, once the outcome is in. With `mayHold` false (the wait for the outcome
 * lasted the whole grace period) the pending entries count as sent: a message too many is worse
 * than one too few.
 */
export function decideSendOnOutcomes(
  send: PendingSend,
  ledger: readonly LedgerEntry[],
  policies: SendPolicies,
  now: Date,
  timezone: string,
  mayHold: boolean,
): SendDecisionOnOutcomes {
  const counted = decideSend(send, ledger, policies, now, timezone);
  if (!mayHold || counted.kind !== 'suppress' || !ledger.some((e) => e.pending)) return counted;
  const settled = decideSend(
    send,
    ledger.filter((e) => !e.pending),
    policies,
    now,
    timezone,
  );
  return settled.kind === 'suppress' && settled.reason === counted.reason ? counted : { kind: 'hold' };
}

export function decideSend(
  send: PendingSend,
  ledger: readonly LedgerEntry[],
  policies: SendPolicies,
  now: Date,
  timezone: string,
): SendDecision {
  const local = DateTime.fromJSDate(now, { zone: timezone });
  const quiet = policies.quietHours;
  if (quiet && quiet.channels.includes(send.channel)) {
    const until = quietHoursEnd(quiet, local);
    if (until) return { kind: 'defer', until };
  }
  const today = localDayOf(now, timezone);
  // Sent before now: a send decided later for an earlier time (one held for an outcome) sees only those.
  const sameDayOthers = ledger.filter(
    (e) => e.localDay === today && e.journeyKey !== send.journeyKey && e.sentAt.getTime() <= now.getTime(),
  );
  if (sameDayOthers.some((e) => e.priority > send.priority)) return { kind: 'suppress', reason: 'priority' };
  const beaten = (e: LedgerEntry): boolean => sameDayOthers.includes(e) && e.priority < send.priority;
  for (const cap of policies.frequencyCaps) {
    if (cap.channel !== 'any' && cap.channel !== send.channel) continue;
    const since = now.getTime() - parseDuration(cap.per);
    const counted = ledger.filter(
      (e) =>
        (cap.channel === 'any' || e.channel === cap.channel) &&
        e.sentAt.getTime() > since &&
        e.sentAt.getTime() <= now.getTime() &&
        !beaten(e),
    ).length;
    if (counted >= cap.max) return { kind: 'suppress', reason: 'frequency_cap' };
  }
  return { kind: 'send', localDay: today };
}

/** The customer's local calendar date of an instant, `yyyy-MM-dd`. */
export function localDayOf(at: Date, timezone: string): string {
  return DateTime.fromJSDate(at, { zone: timezone }).toISODate() ?? at.toISOString().slice(0, 10);
}

/**
 * How far back a ledger must reach to decide any send under these caps: the longest cap, and
 * at least the longest local day seen from any zone (26 hours covers offsets and DST days).
 */
export function ledgerLookbackMs(caps: readonly FrequencyCap[]): number {
  return Math.max(26 * 3_600_000, ...caps.map((cap) => parseDuration(cap.per)));
}

/** The end of the quiet window `local` is in (the next local `end`), or undefined outside it. */
function quietHoursEnd(quiet: QuietHours, local: DateTime): Date | undefined {
  const start = parseTimeOfDay(quiet.start);
  const end = parseTimeOfDay(quiet.end);
  const minute = local.hour * 60 + local.minute;
  const startMinute = start.hour * 60 + start.minute;
  const endMinute = end.hour * 60 + end.minute;
  const inside =
    startMinute < endMinute
      ? minute >= startMinute && minute < endMinute
      : minute >= startMinute || minute < endMinute;
  if (!inside) return undefined;
  let next = local.set({ hour: end.hour, minute: end.minute, second: 0, millisecond: 0 });
  if (next <= local)
    next = local.plus({ days: 1 }).set({ hour: end.hour, minute: end.minute, second: 0, millisecond: 0 });
  return next.toJSDate();
}
