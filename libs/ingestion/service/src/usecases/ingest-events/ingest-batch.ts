import {
  aggregatesOf,
  anonymousProfileId,
  applyEvents,
  emptyOrderBook,
  emptyProfile,
  noOrders,
  snapshotOf,
  type AppliedEvent,
  type CanonicalEvent,
  type KnownCurrencies,
  type MergedHistory,
  rejectForeignCurrencies,
  toCustomerEvent,
} from '@mmp/ingestion-domain';
import type { CustomerEventV1 } from '@mmp/contracts';
import { Injectable, Logger } from '@nestjs/common';

import { EventLogStore } from '../../store/event-log.store';
import { IdentityStore, type NewLink } from '../../store/identity.store';
import { toOrderBook } from '../../store/order.store';
import { ProfileStore, toProfileState, type LockedProfile } from '../../store/profile.store';

export interface EventRejection {
  eventId: string;
  /** The field and the rule broken, as validation issues name them. */
  path: string;
  message: string;
}

export interface IngestResult {
  /** Events seen for the first time, each with the profile right after it, as they go out. */
  applied: CustomerEventV1[];
  /** Events stored earlier whose publication never completed, as they first went out: publish them again. */
  unpublished: CustomerEventV1[];
  /** eventIds that were already known (or repeated within the batch). */
  duplicates: string[];
  /** Valid events refused by a rule on the customer's state (a foreign currency, an erased customer); nothing was stored. */
  rejected: EventRejection[];
  /** The row that keeps `applied` marked unpublished until markPublished: null when nothing new was stored. */
  batchId: string | null;
}

/**
 * One batch of events in one transaction, over ingestion's stores, with a fixed number of
 * set-based statements whatever the batch size: the visitors' identities locked, the events
 * filed under their customers, the profiles locked, the rules on stored state applied, the
 * batch stored, known events left unpublished found again, visitors' histories merged, and the
 * profiles folded and saved.
 */
@Injectable()
export class IngestBatch {
  private readonly logger = new Logger(IngestBatch.name);

  constructor(
    private readonly profiles: ProfileStore,
    private readonly identities: IdentityStore,
    private readonly events: EventLogStore,
  ) {}

  async ingest(batch: readonly CanonicalEvent[], now: Date): Promise<IngestResult> {
    const seen = new Set<string>();
    const unique: CanonicalEvent[] = [];
    const duplicates: string[] = [];
    for (const event of batch) {
      if (seen.has(event.eventId)) duplicates.push(event.eventId);
      else {
        seen.add(event.eventId);
        unique.push(event);
      }
    }
    if (unique.length === 0) return { applied: [], unpublished: [], duplicates, rejected: [], batchId: null };

    return this.profiles.transaction(async (tx) => {
      const { storedLinks, visitorCurrencies } = await this.identities.lockIdentities(tx, unique);
      // Filed as if the events had come one by one: an event that links a visitor but is
      // refused links nothing, so the visitor's later events stay the visitor's. Refusals
      // depend on the filing, so the first refused link is set aside and the batch filed again
      // (rare: a link to an erased customer, or an order naming both ids in a foreign currency);
      // only then may a visitor's profile be locked in a statement of its own.
      const refusedLinks = new Set<string>();
      // A redelivered batch's events are already in the state the rules read (an order's
      // currency, a link that now files a visitor's refund under the customer): they passed the
      // rules when first stored and must not be judged against their own effects. Looked up only
      // when a rule refuses something, which a batch seen for the first time rarely has.
      let recorded: ReadonlySet<string> | undefined;
      const locked = new Map<string, LockedProfile>();
      let filed: ReturnType<typeof fileEvents>;
      let rules: ReturnType<typeof applyCustomerRules>;
      for (;;) {
        filed = fileEvents(unique, storedLinks, refusedLinks);
        const unlocked = [...new Set(filed.resolved.map((e) => e.customerId))].filter(
          (id) => !locked.has(id),
        );
        if (unlocked.length > 0) {
          for (const [id, profile] of await this.profiles.lockProfiles(tx, unlocked.sort(), now))
            locked.set(id, profile);
        }
        rules = applyCustomerRules(filed.resolved, locked, filed.newLinks, visitorCurrencies, recorded);
        if (rules.rejected.length > 0 && recorded === undefined) {
          recorded = await this.events.recordedAmong(
            tx,
            unique.map((e) => e.eventId),
          );
          if (recorded.size > 0) continue;
        }
        const refusedIds = new Set(rules.rejected.map((r) => r.eventId));
        const refused = filed.newLinks.find((link) => refusedIds.has(link.eventId));
        if (!refused) break;
        refusedLinks.add(refused.eventId);
      }
      const { accepted, rejected } = rules;
      const links = filed.newLinks;
      if (accepted.length === 0) return { applied: [], unpublished: [], duplicates, rejected, batchId: null };

      // One statement stores the batch: the events new to the idempotency record, the row that
      // keeps them marked unpublished, and the orders and refunds among them.
      const inserted = await this.events.storeBatch(tx, accepted, now);
      const batchId = inserted[0]?.batch_id ?? null;
      const insertedIds = new Set(inserted.map((row) => row.event_id));
      const fresh = accepted.filter((e) => insertedIds.has(e.eventId));
      const known = accepted.filter((e) => !insertedIds.has(e.eventId));

      // Known events whose earlier publication did not complete come back to be published again.
      const leftovers = await this.events.unpublishedAmong(
        tx,
        known.map((e) => e.eventId),
      );
      const leftoverIds = new Set(leftovers.map((leftover) => leftover.event.eventId));
      duplicates.push(...known.filter((e) => !leftoverIds.has(e.eventId)).map((e) => e.eventId));
      if (fresh.length === 0 && leftovers.length === 0 && links.length === 0) {
        return { applied: [], unpublished: [], duplicates, rejected, batchId };
      }

      // Leftovers were applied when they were stored: they go out as their batch held them, or
      // (each customer's last of its batch) with the profile as saved after it.
      const unpublished = leftovers.map(({ event, held }) => {
        if (held) return held;
        const stored = locked.get(event.customerId);
        return toCustomerEvent({
          event,
          snapshot: stored
            ? snapshotOf(stored, aggregatesOf(stored.book))
            : snapshotOf(emptyProfile(event.customerId), noOrders),
        });
      });

      const mergedProfiles = await this.identities.mergeAnonymousHistories(tx, links, now);
      for (const merged of mergedProfiles) {
        if (merged.excluded_orders === 0) continue;
        this.logger.warn(
          `merged ${merged.customer_id} into ${merged.into_customer_id}: ${merged.excluded_orders} order(s) in ` +
            `${(merged.excluded_currencies ?? []).join(', ')} kept but not counted, the customer's orders are in another currency`,
        );
      }
      // Each customer's events in arrival order, each with the profile right after it. A
      // visitor linked in this batch first takes its own events before the link, then its history
      // (moved by the merge, orders included) joins its customer at the event that linked them.
      const applied: AppliedEvent[] = [];
      const freshByCustomer = groupBy(fresh, (e) => e.customerId);
      const fold = (customerId: string, merges?: ReadonlyMap<string, MergedHistory>) => {
        const stored = locked.get(customerId);
        const result = applyEvents(
          stored ?? emptyProfile(customerId),
          stored?.book ?? emptyOrderBook(),
          freshByCustomer.get(customerId) ?? [],
          merges,
        );
        applied.push(...result.applied);
        return result.state;
      };
      const linkOf = new Map(links.map((link) => [anonymousProfileId(link.anonymousId), link.eventId]));
      const mergesByCustomer = new Map<string, Map<string, MergedHistory>>();
      for (const merged of mergedProfiles) {
        const visitor = freshByCustomer.has(merged.customer_id)
          ? fold(merged.customer_id)
          : toProfileState(merged);
        const merges = mergesByCustomer.get(merged.into_customer_id) ?? new Map<string, MergedHistory>();
        merges.set(linkOf.get(merged.customer_id) ?? '', { profile: visitor, orders: toOrderBook(merged) });
        mergesByCustomer.set(merged.into_customer_id, merges);
      }
      // The merged visitors' profiles are gone: only their customers' are saved.
      const mergedAway = new Set(mergedProfiles.map((merged) => merged.customer_id));
      const changed = [...new Set([...freshByCustomer.keys(), ...mergesByCustomer.keys()])]
        .filter((customerId) => !mergedAway.has(customerId))
        .sort();
      const saved = changed.map((customerId) => fold(customerId, mergesByCustomer.get(customerId)));
      const messages = applied.map(toCustomerEvent);
      await this.profiles.saveProfiles(tx, saved, now, {
        batchId,
        messages: unrebuildable(messages, changed),
      });

      return { applied: messages, unpublished, duplicates, rejected, batchId };
    });
  }
}

/**
 * The applied events whose message a republish could not rebuild from what is stored: all but
 * each saved customer's last one, which carries the profile exactly as saved. (A merged-away
 * visitor's profile is not saved, and its events have moved to its customer: all are kept.)
 */
function unrebuildable(applied: readonly CustomerEventV1[], saved: readonly string[]): CustomerEventV1[] {
  const lastOfCustomer = new Map<string, CustomerEventV1>();
  for (const message of applied) lastOfCustomer.set(message.customerId, message);
  const rebuildable = new Set(saved.map((customerId) => lastOfCustomer.get(customerId)));
  return applied.filter((message) => !rebuildable.has(message));
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Files every event under its customer, in arrival order: its own customerId, else the customer
 * its anonymousId is linked to (stored, or linked by an earlier event of the batch), else the
 * anonymous profile. The first event carrying both ids links them, unless it is `refused`; a
 * later one naming another customer keeps its own customerId.
 */
function fileEvents(
  events: readonly CanonicalEvent[],
  storedLinks: ReadonlyMap<string, string>,
  refused: ReadonlySet<string>,
): { resolved: CanonicalEvent[]; newLinks: NewLink[] } {
  const links = new Map(storedLinks);
  const newLinks: NewLink[] = [];
  const resolved = events.map((event) => {
    if (event.anonymousId === null) return event;
    const linked = links.get(event.anonymousId);
    if (isAnonymousOnly(event)) return linked === undefined ? event : { ...event, customerId: linked };
    if (linked === undefined && !refused.has(event.eventId)) {
      links.set(event.anonymousId, event.customerId);
      newLinks.push({ anonymousId: event.anonymousId, customerId: event.customerId, eventId: event.eventId });
    }
    return event;
  });
  return { resolved, newLinks };
}

/** An event that names only a visitor: filed under its anonymous profile until the visitor is linked. */
function isAnonymousOnly(event: CanonicalEvent): boolean {
  return event.anonymousId !== null && event.customerId === anonymousProfileId(event.anonymousId);
}

/**
 * The rules that depend on what is stored: an erased customer takes no new events, and a
 * customer's orders and refunds stay in the currency of their earlier orders.
 */
function applyCustomerRules(
  events: readonly CanonicalEvent[],
  profiles: ReadonlyMap<string, LockedProfile>,
  links: readonly NewLink[],
  visitorCurrencies: ReadonlyMap<string, KnownCurrencies>,
  recorded: ReadonlySet<string> = new Set(),
): { accepted: CanonicalEvent[]; rejected: EventRejection[] } {
  const currencies = new Map(visitorCurrencies);
  for (const [customerId, profile] of profiles) currencies.set(customerId, profile.currencies);
  const rejected: EventRejection[] = [];
  const live = events.filter((event) => {
    if (!profiles.get(event.customerId)?.erased) return true;
    rejected.push({
      eventId: event.eventId,
      path: 'customerId',
      message: `customer ${event.customerId} was erased: events for this id are not accepted`,
    });
    return false;
  });
  // Recorded events are already counted in the stored currencies: only new ones are checked.
  const currencyCheck = rejectForeignCurrencies(
    live.filter((event) => !recorded.has(event.eventId)),
    currencies,
    new Map(links.map((link) => [link.eventId, anonymousProfileId(link.anonymousId)])),
  );
  const refusedIds = new Set<string>();
  for (const r of currencyCheck.rejected) {
    refusedIds.add(r.event.eventId);
    rejected.push({ eventId: r.event.eventId, path: r.path, message: r.message });
  }
  return { accepted: live.filter((event) => !refusedIds.has(event.eventId)), rejected };
}
