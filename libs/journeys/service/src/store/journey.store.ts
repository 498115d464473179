import type { CustomerProfileSnapshot, JourneyEntryV1, MessageRequestedV1 } from '@mmp/contracts';
import type { Channel } from '@mmp/contracts';
import type {
  Group,
  InstanceState,
  InstanceStatus,
  LedgerEntry,
  SentMessage,
  WaitReason,
} from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** What an instance needs besides its state: the version it runs on and what it renders with. */
export interface InstanceRecord {
  state: InstanceState;
  journeyVersion: string;
  milestone: MilestoneContext;
  profile: CustomerProfileSnapshot;
  /** The goal and when its window ends, fixed at entry; null for a journey without a goal. */
  goal: { event: string; endsAt: Date } | null;
  /** The event that caused the milestone: it happened before the entry, so it never counts since. */
  causeEventId: string | null;
}

/** A send that went out, as the ledger keeps it. */
export type LedgerRecord = SentMessage;

export type MilestoneContext = MessageRequestedV1['milestone'];

/** A live instance loaded with the definition it runs on. */
export interface LiveInstance extends InstanceRecord {
  definition: JourneyDefinition;
}

/** An instance loaded to run: also when the customer first did each event type since entry. */
export interface LoadedInstance extends LiveInstance {
  eventsSinceEntry: Map<string, Date>;
}

export interface OutboxMessage {
  messageId: string;
  instanceId: string;
  payload: MessageRequestedV1;
}

interface InstanceRow {
  instance_id: string;
  journey_key: string;
  journey_version: string;
  customer_id: string;
  occurrence_id: string;
  milestone: MilestoneContext;
  profile: CustomerProfileSnapshot;
  grp: Group;
  status: InstanceStatus;
  step_index: number;
  wake_at: Date | null;
  wait_reason: WaitReason | null;
  entered_at: Date;
  exit_reason: string | null;
  goal_event: string | null;
  goal_ends_at: Date | null;
  cause_event_id: string | null;
  definition: JourneyDefinition;
  events: Record<string, string> | null;
}

/**
 * The first time of each event type since the instance entered, as `sinceEntryOf` in the
 * journeys domain defines it: by `occurredAt`, the trigger's cause excluded, whenever it arrived.
 */
const EVENTS_SINCE_ENTRY = `
  (SELECT jsonb_object_agg(s.event_type, s.first_at)
     FROM (SELECT e.event_type, min(e.occurred_at) AS first_at
             FROM journeys.customer_events e
            WHERE e.customer_id = i.customer_id AND e.occurred_at >= i.entered_at
              AND e.event_id IS DISTINCT FROM i.cause_event_id
            GROUP BY e.event_type) AS s)`;

const LOADED_INSTANCE_COLUMNS = `
  i.instance_id, i.journey_key, i.journey_version, i.customer_id, i.occurrence_id, i.milestone, i.profile,
  i.grp, i.status, i.step_index, i.wake_at, i.wait_reason, i.entered_at, i.exit_reason, i.goal_event,
  i.goal_ends_at, i.cause_event_id, v.definition`;

/** Journey instances, their timers and their outbox. Every call is set-based over a batch. */
@Injectable()
export class JourneyStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  async saveVersions(
    tx: EntityManager,
    journeys: readonly { key: string; version: string; definition: JourneyDefinition }[],
    now: Date,
  ): Promise<void> {
    if (journeys.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.journey_versions (journey_key, version, definition, created_at)
       SELECT k, v, d, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(k, v, d)
       ON CONFLICT (journey_key, version) DO NOTHING`,
      [
        journeys.map((j) => j.key),
        journeys.map((j) => j.version),
        journeys.map((j) => JSON.stringify(j.definition)),
        now,
      ],
    );
  }

  /** Inserts new instances; returns the ids actually created (re-entry while live is ignored). */
  async insertInstances(
    tx: EntityManager,
    records: readonly InstanceRecord[],
    now: Date,
  ): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    const rows = await queryRows<{ instance_id: string }>(
      tx,
      `INSERT INTO journeys.instances
         (instance_id, journey_key, journey_version, customer_id, occurrence_id, milestone, profile,
          grp, status, step_index, wake_at, entered_at, goal_event, goal_ends_at, cause_event_id, updated_at)
       SELECT t.*, $16::timestamptz
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[],
                     $8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::timestamptz[],
                     $13::text[], $14::timestamptz[], $15::text[]) AS t
       ON CONFLICT DO NOTHING
       RETURNING instance_id`,
      [
        records.map((r) => r.state.instanceId),
        records.map((r) => r.state.journeyKey),
        records.map((r) => r.journeyVersion),
        records.map((r) => r.state.customerId),
        records.map((r) => r.state.occurrenceId),
        records.map((r) => JSON.stringify(r.milestone)),
        records.map((r) => JSON.stringify(r.profile)),
        records.map((r) => r.state.group),
        records.map((r) => r.state.status),
        records.map((r) => r.state.stepIndex),
        records.map((r) => r.state.wakeAt),
        records.map((r) => r.state.enteredAt),
        records.map((r) => r.goal?.event ?? null),
        records.map((r) => r.goal?.endsAt ?? null),
        records.map((r) => r.causeEventId),
        now,
      ],
    );
    return new Set(rows.map((row) => row.instance_id));
  }

  async updateInstances(tx: EntityManager, states: readonly InstanceState[], now: Date): Promise<void> {
    if (states.length === 0) return;
    await runSql(
      tx,
      `UPDATE journeys.instances i
          SET status = t.status, step_index = t.step_index, wake_at = t.wake_at, wait_reason = t.wait_reason,
              exit_reason = t.exit_reason, updated_at = $7
         FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[], $6::text[])
              AS t(instance_id, status, step_index, wake_at, wait_reason, exit_reason)
        WHERE i.instance_id = t.instance_id`,
      [
        states.map((s) => s.instanceId),
        states.map((s) => s.status),
        states.map((s) => s.stepIndex),
        states.map((s) => s.wakeAt),
        states.map((s) => s.waitReason),
        states.map((s) => s.exitReason),
        now,
      ],
    );
  }

  /** Adds messages to the outbox; returns those actually added (a message already there is left alone). */
  async insertOutbox(
    tx: EntityManager,
    messages: readonly OutboxMessage[],
    now: Date,
  ): Promise<OutboxMessage[]> {
    if (messages.length === 0) return [];
    const rows = await queryRows<{ message_id: string }>(
      tx,
      `INSERT INTO journeys.outbox (message_id, instance_id, payload, created_at)
       SELECT m, i, p, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(m, i, p)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        messages.map((m) => m.messageId),
        messages.map((m) => m.instanceId),
        messages.map((m) => JSON.stringify(m.payload)),
        now,
      ],
    );
    const added = new Set(rows.map((row) => row.message_id));
    return messages.filter((m) => added.has(m.messageId));
  }

  async pendingOutbox(instanceIds: readonly string[]): Promise<OutboxMessage[]> {
    if (instanceIds.length === 0) return [];
    const rows = await queryRows<{ message_id: string; instance_id: string; payload: MessageRequestedV1 }>(
      this.db,
      `SELECT message_id, instance_id, payload FROM journeys.outbox
        WHERE instance_id = ANY($1::text[]) AND published_at IS NULL
        ORDER BY created_at, message_id`,
      [instanceIds],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      instanceId: row.instance_id,
      payload: row.payload,
    }));
  }

  /** Outbox messages still unpublished that were written before `before`, oldest first. */
  async staleOutbox(before: Date, limit: number): Promise<OutboxMessage[]> {
    const rows = await queryRows<{ message_id: string; instance_id: string; payload: MessageRequestedV1 }>(
      this.db,
      `SELECT message_id, instance_id, payload FROM journeys.outbox
        WHERE published_at IS NULL AND created_at < $1
        ORDER BY created_at, message_id
        LIMIT $2`,
      [before, limit],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      instanceId: row.instance_id,
      payload: row.payload,
    }));
  }

  async markPublished(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(this.db, `UPDATE journeys.outbox SET published_at = $2 WHERE message_id = ANY($1::text[])`, [
      messageIds,
      now,
    ]);
  }

  /**
   * Claims due timers, oldest first (ties by instance id, so a customer's sends due at the same
   * moment are decided in one order whatever the claim sizes); SKIP LOCKED lets several
   * instances of the service share them, none twice.
   * The rows come from the locking statement itself, so each is the version this transaction
   * locked (re-checked as still due), never an older snapshot of it that another claim already ran.
   */
  async claimDue(tx: EntityManager, now: Date, limit: number): Promise<LoadedInstance[]> {
    const rows = await queryRows<InstanceRow>(
      tx,
      `WITH claimed AS MATERIALIZED (
         SELECT * FROM journeys.instances
          WHERE status = 'waiting' AND wake_at <= $1
          ORDER BY wake_at, instance_id
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       SELECT ${LOADED_INSTANCE_COLUMNS}, ${EVENTS_SINCE_ENTRY} AS events
         FROM claimed i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version`,
      [now, limit],
    );
    return rows.map((row) => ({ ...toLive(row), eventsSinceEntry: eventTimesOf(row.events) }));
  }

  /** Live instances of these customers (but those `excluding`), locked, for applying their new events. */
  async lockLiveInstances(
    tx: EntityManager,
    customerIds: readonly string[],
    excluding: readonly string[] = [],
  ): Promise<LiveInstance[]> {
    if (customerIds.length === 0) return [];
    const rows = await queryRows<Omit<InstanceRow, 'events'>>(
      tx,
      `SELECT ${LOADED_INSTANCE_COLUMNS}
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.customer_id = ANY($1::text[]) AND i.status IN ('active', 'waiting')
          AND i.instance_id <> ALL($2::text[])
        ORDER BY i.instance_id
        FOR UPDATE OF i`,
      [customerIds, excluding],
    );
    return rows.map(toLive);
  }

  /** Entries of these instances not yet on journeys.entries.v1: new ones, and any a crash left behind. */
  async pendingEntries(instanceIds: readonly string[]): Promise<JourneyEntryV1[]> {
    if (instanceIds.length === 0) return [];
    return this.unpublishedEntries(`instance_id = ANY($1::text[])`, [instanceIds]);
  }

  /** Entries still unpublished long after their commit: stranded by a crash with no redelivery to come. */
  async staleEntries(before: Date, limit: number): Promise<JourneyEntryV1[]> {
    return this.unpublishedEntries(`entered_at < $1`, [before], limit);
  }

  private async unpublishedEntries(
    where: string,
    parameters: readonly unknown[],
    limit = 10_000,
  ): Promise<JourneyEntryV1[]> {
    const rows = await queryRows<{
      instance_id: string;
      journey_key: string;
      journey_version: string;
      customer_id: string;
      milestone_key: string;
      grp: Group;
      entered_at: Date;
      goal_event: string | null;
      goal_ends_at: Date | null;
    }>(
      this.db,
      `SELECT instance_id, journey_key, journey_version, customer_id, milestone ->> 'key' AS milestone_key,
              grp, entered_at, goal_event, goal_ends_at
         FROM journeys.instances
        WHERE entry_published_at IS NULL AND ${where}
        ORDER BY entered_at, instance_id
        LIMIT ${limit}`,
      parameters,
    );
    return rows.map((row) => ({
      schemaVersion: 1,
      instanceId: row.instance_id,
      journeyKey: row.journey_key,
      journeyVersion: row.journey_version,
      customerId: row.customer_id,
      milestoneKey: row.milestone_key,
      group: row.grp,
      enteredAt: row.entered_at.toISOString(),
      goal:
        row.goal_event && row.goal_ends_at
          ? { event: row.goal_event, windowEndsAt: row.goal_ends_at.toISOString() }
          : null,
    }));
  }

  async markEntriesPublished(instanceIds: readonly string[], now: Date): Promise<void> {
    if (instanceIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE journeys.instances SET entry_published_at = $2 WHERE instance_id = ANY($1::text[])`,
      [instanceIds, now],
    );
  }

  /**
   * Erasure (SPEC section 6): blanks the customer's traits in every instance and in every outbox
   * payload, and ends live instances with reason `customer_erased`. Counts and group memberships
   * stay, so aggregates are unchanged.
   */
  async eraseCustomers(tx: EntityManager, customerIds: readonly string[], now: Date): Promise<void> {
    await runSql(
      tx,
      `UPDATE journeys.instances
          SET profile = jsonb_set(profile, '{traits}', '{}'::jsonb),
              exit_reason = CASE WHEN status IN ('active', 'waiting') THEN 'customer_erased' ELSE exit_reason END,
              wake_at = CASE WHEN status IN ('active', 'waiting') THEN NULL ELSE wake_at END,
              status = CASE WHEN status IN ('active', 'waiting') THEN 'exited' ELSE status END,
              updated_at = $2
        WHERE customer_id = ANY($1::text[])`,
      [customerIds, now],
    );
    await runSql(
      tx,
      `UPDATE journeys.outbox o
          SET payload = jsonb_set(o.payload, '{customer,traits}', '{}'::jsonb)
         FROM journeys.instances i
        WHERE i.instance_id = o.instance_id AND i.customer_id = ANY($1::text[])`,
      [customerIds],
    );
  }

  /** Keeps the customers' events narrowly (type and time), once per eventId, for what counts since entry. */
  async recordCustomerEvents(
    tx: EntityManager,
    events: readonly { customerId: string; eventId: string; type: string; occurredAt: Date }[],
  ): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.customer_events (customer_id, event_id, event_type, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING`,
      [
        events.map((e) => e.customerId),
        events.map((e) => e.eventId),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
      ],
    );
  }

  /**
   * Deletes up to `limit` kept events older than `before` that no live instance counts (none of
   * the customer's live instances entered at or before them); returns how many. Entries to come
   * need only events after their `reachedAt`, which is at most the grace period old.
   */
  async pruneCustomerEvents(before: Date, limit: number): Promise<number> {
    const rows = await queryRows<{ event_id: string }>(
      this.db,
      `DELETE FROM journeys.customer_events d
        USING (SELECT e.customer_id, e.event_id FROM journeys.customer_events e
                WHERE e.occurred_at < $1
                  AND NOT EXISTS (SELECT 1 FROM journeys.instances i
                                   WHERE i.customer_id = e.customer_id AND i.status IN ('active', 'waiting')
                                     AND i.entered_at <= e.occurred_at)
                ORDER BY e.occurred_at
                LIMIT $2) AS old
        WHERE d.customer_id = old.customer_id AND d.event_id = old.event_id
        RETURNING d.event_id`,
      [before, limit],
    );
    return rows.length;
  }

  /** What the customers of these (just entered) instances did since each entry, events that came early included. */
  async eventsSinceEntryOf(
    tx: EntityManager,
    instanceIds: readonly string[],
  ): Promise<Map<string, Map<string, Date>>> {
    if (instanceIds.length === 0) return new Map();
    const rows = await queryRows<{ instance_id: string; events: Record<string, string> | null }>(
      tx,
      `SELECT i.instance_id, ${EVENTS_SINCE_ENTRY} AS events
         FROM journeys.instances i WHERE i.instance_id = ANY($1::text[])`,
      [instanceIds],
    );
    return new Map(rows.map((row) => [row.instance_id, eventTimesOf(row.events)]));
  }

  async updateProfiles(
    tx: EntityManager,
    updates: readonly { instanceId: string; profile: CustomerProfileSnapshot }[],
  ): Promise<void> {
    if (updates.length === 0) return;
    await runSql(
      tx,
      `UPDATE journeys.instances i SET profile = t.profile
         FROM unnest($1::text[], $2::jsonb[]) AS t(instance_id, profile)
        WHERE i.instance_id = t.instance_id`,
      [updates.map((u) => u.instanceId), updates.map((u) => JSON.stringify(u.profile))],
    );
  }

  /**
   * Serialises the policy decisions of these customers across transactions (entries, timers,
   * several service instances): caps and collisions read the ledger and then add to it. Locks
   * are taken in hash order, in one statement, so two batches never wait on each other in a cycle.
   */
  async lockCustomers(tx: EntityManager, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await runSql(
      tx,
      `SELECT pg_advisory_xact_lock(h)
         FROM (SELECT DISTINCT hashtextextended(c, 0) AS h FROM unnest($1::text[]) AS c ORDER BY h) AS t`,
      [customerIds],
    );
  }

  /** The sends of these customers since `since` that were not voided, per customer. */
  async ledgerOf(
    tx: EntityManager,
    customerIds: readonly string[],
    since: Date,
  ): Promise<Map<string, LedgerEntry[]>> {
    const ledger = new Map<string, LedgerEntry[]>();
    if (customerIds.length === 0) return ledger;
    const rows = await queryRows<{
      customer_id: string;
      journey_key: string;
      priority: number;
      channel: Channel;
      sent_at: Date;
      local_day: string;
    }>(
      tx,
      `SELECT customer_id, journey_key, priority, channel, sent_at, local_day::text AS local_day
         FROM journeys.send_ledger
        WHERE customer_id = ANY($1::text[]) AND sent_at > $2 AND voided_at IS NULL
        ORDER BY sent_at`,
      [customerIds, since],
    );
    for (const row of rows) {
      const entries = ledger.get(row.customer_id) ?? [];
      entries.push({
        journeyKey: row.journey_key,
        priority: row.priority,
        channel: row.channel,
        sentAt: row.sent_at,
        localDay: row.local_day,
      });
      ledger.set(row.customer_id, entries);
    }
    return ledger;
  }

  async recordSends(tx: EntityManager, sends: readonly LedgerRecord[]): Promise<void> {
    if (sends.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.send_ledger (message_id, customer_id, journey_key, priority, channel, sent_at, local_day)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::date[])
       ON CONFLICT (message_id) DO NOTHING`,
      [
        sends.map((s) => s.messageId),
        sends.map((s) => s.customerId),
        sends.map((s) => s.journeyKey),
        sends.map((s) => s.priority),
        sends.map((s) => s.channel),
        sends.map((s) => s.sentAt),
        sends.map((s) => s.localDay),
      ],
    );
  }

  /** Messages delivery did not send after all (suppressed, failed) stop counting for caps and collisions. */
  async voidSends(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE journeys.send_ledger SET voided_at = $2 WHERE message_id = ANY($1::text[]) AND voided_at IS NULL`,
      [messageIds, now],
    );
  }

  /**
   * Marks the goal reached on every instance of these customers, treatment and holdout, live or
   * ended, whose goal event happened within its window: the earliest such event counts, also
   * when it arrives after a later one (a late event moves `reachedAt` back, never forward).
   */
  async recordGoals(
    tx: EntityManager,
    events: readonly { customerId: string; eventId: string; type: string; occurredAt: Date }[],
  ): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      tx,
      // One index probe per event (LATERAL, kept from being flattened into a join by OFFSET 0):
      // as a plain join, a young table's statistics made the planner sort and merge the whole
      // table for every batch, about a third of journeys' Postgres time on the order path.
      `UPDATE journeys.instances i SET goal_reached_at = LEAST(i.goal_reached_at, g.reached_at)
         FROM (SELECT m.instance_id, min(m.at) AS reached_at
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS e(customer_id, event_id, type, at)
                 CROSS JOIN LATERAL (
                   SELECT i2.instance_id, e.at FROM journeys.instances i2
                    WHERE i2.customer_id = e.customer_id AND i2.goal_event = e.type
                      AND (i2.goal_reached_at IS NULL OR e.at < i2.goal_reached_at)
                      AND e.at >= i2.entered_at AND e.at <= i2.goal_ends_at
                      AND e.event_id IS DISTINCT FROM i2.cause_event_id
                   OFFSET 0) AS m
                GROUP BY m.instance_id) AS g
        WHERE i.instance_id = g.instance_id`,
      [
        events.map((e) => e.customerId),
        events.map((e) => e.eventId),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
      ],
    );
  }

  /**
   * Marks the goal of just-entered instances from the events journeys already holds: a goal
   * event that reached journeys before the milestone it follows counts all the same.
   */
  async recordGoalsFromHistory(tx: EntityManager, instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    await runSql(
      tx,
      `UPDATE journeys.instances i
          SET goal_reached_at = (
                SELECT min(e.occurred_at) FROM journeys.customer_events e
                 WHERE e.customer_id = i.customer_id AND e.event_type = i.goal_event
                   AND e.occurred_at >= i.entered_at AND e.occurred_at <= i.goal_ends_at
                   AND e.event_id IS DISTINCT FROM i.cause_event_id)
        WHERE i.instance_id = ANY($1::text[]) AND i.goal_event IS NOT NULL AND i.goal_reached_at IS NULL`,
      [instanceIds],
    );
  }

  /** Per customer: journeys entered, where each stands, why it ended, and its goal. */
  async instancesOf(customerId: string, now: Date): Promise<CustomerJourney[]> {
    const rows = await queryRows<{
      journey_key: string;
      journey_version: string;
      grp: Group;
      status: InstanceStatus;
      step_id: string | null;
      wake_at: Date | null;
      wait_reason: WaitReason | null;
      entered_at: Date;
      exit_reason: string | null;
      goal_event: string | null;
      goal_ends_at: Date | null;
      goal_reached_at: Date | null;
    }>(
      this.db,
      `SELECT i.journey_key, i.journey_version, i.grp, i.status,
              v.definition -> 'steps' -> i.step_index ->> 'id' AS step_id,
              i.wake_at, i.wait_reason, i.entered_at, i.exit_reason, i.goal_event, i.goal_ends_at, i.goal_reached_at
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.customer_id = $1
        ORDER BY i.entered_at DESC, i.journey_key`,
      [customerId],
    );
    return rows.map((row) => {
      const live = row.status === 'active' || row.status === 'waiting';
      return {
        journeyKey: row.journey_key,
        journeyVersion: row.journey_version,
        group: row.grp,
        status: row.status,
        currentStep: live ? row.step_id : null,
        waitingUntil: row.wake_at?.toISOString() ?? null,
        waitingFor: row.status === 'waiting' ? row.wait_reason : null,
        enteredAt: row.entered_at.toISOString(),
        exitReason: row.exit_reason,
        goal:
          row.goal_event && row.goal_ends_at
            ? {
                event: row.goal_event,
                windowEndsAt: row.goal_ends_at.toISOString(),
                reachedAt: row.goal_reached_at?.toISOString() ?? null,
                outcome: row.goal_reached_at
                  ? 'reached'
                  : row.goal_ends_at.getTime() < now.getTime()
                    ? 'missed'
                    : 'pending',
              }
            : null,
      };
    });
  }
}

export interface CustomerJourney {
  journeyKey: string;
  journeyVersion: string;
  group: Group;
  status: InstanceStatus;
  currentStep: string | null;
  waitingUntil: string | null;
  /** `wait` for a wait step, `quiet_hours` for a send held until the quiet window ends. */
  waitingFor: WaitReason | null;
  enteredAt: string;
  exitReason: string | null;
  /** The goal window from entry and whether the goal event happened within it (treatment and holdout alike). */
  goal: {
    event: string;
    windowEndsAt: string;
    reachedAt: string | null;
    outcome: 'reached' | 'pending' | 'missed';
  } | null;
}

function toLive(row: Omit<InstanceRow, 'events'>): LiveInstance {
  return {
    state: {
      instanceId: row.instance_id,
      journeyKey: row.journey_key,
      customerId: row.customer_id,
      occurrenceId: row.occurrence_id,
      group: row.grp,
      status: row.status,
      stepIndex: row.step_index,
      wakeAt: row.wake_at,
      waitReason: row.wait_reason,
      enteredAt: row.entered_at,
      exitReason: row.exit_reason,
    },
    journeyVersion: row.journey_version,
    milestone: row.milestone,
    profile: row.profile,
    goal: row.goal_event && row.goal_ends_at ? { event: row.goal_event, endsAt: row.goal_ends_at } : null,
    causeEventId: row.cause_event_id,
    definition: row.definition,
  };
}

function eventTimesOf(events: Record<string, string> | null): Map<string, Date> {
  return new Map(Object.entries(events ?? {}).map(([type, at]) => [type, new Date(at)]));
}
