import type { CustomerProfileSnapshot, MessageRequestedV1 } from '@mmp/contracts';
import type { Group, InstanceState, InstanceStatus, WaitReason } from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import {
  policyStateOfRows,
  policyStateSql,
  type PolicyState,
  type PolicyStateRow,
} from './send-ledger.store';

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

export type MilestoneContext = MessageRequestedV1['milestone'];

/** What insertInstances() created (each with when its customer first did each event type since entry) and read. */
export interface EnteredInstances {
  created: Map<string, Map<string, Date>>;
  policy: PolicyState;
}

/** A live instance loaded with the definition it runs on. */
export interface LiveInstance extends InstanceRecord {
  definition: JourneyDefinition;
}

/** An instance loaded to run: also when the customer first did each event type since entry. */
export interface LoadedInstance extends LiveInstance {
  eventsSinceEntry: Map<string, Date>;
}

export interface InstanceRow {
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
  held_at: Date | null;
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
  i.grp, i.status, i.step_index, i.wake_at, i.wait_reason, i.held_at, i.entered_at, i.exit_reason, i.goal_event,
  i.goal_ends_at, i.cause_event_id, v.definition`;

/**
 * Journey instances (`journeys.instances`): entered, advanced, their timers claimed when due,
 * locked with their customers' new events, their profiles kept current. Every call is
 * set-based over a batch. `transaction()` opens the transaction the other journeys stores'
 * `tx` parameters join.
 */
@Injectable()
export class InstanceStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /**
   * Inserts new instances (re-entry while live is ignored) with their goals reached from the
   * events journeys already holds (one that came before its milestone counts all the same), and
   * returns, for each created one, what its customer did since entry, together with the policy
   * state of `policyOf.customers` when given: one statement for what an entry reads and
   * writes before deciding. The caller holds the customers' lock, taken in an earlier statement,
   * so what this reads is what was committed before it (see TrackCustomerEventsUsecase).
   */
  async insertInstances(
    tx: EntityManager,
    records: readonly InstanceRecord[],
    now: Date,
    policyOf: { customers: readonly string[]; since: Date } = { customers: [], since: now },
  ): Promise<EnteredInstances> {
    if (records.length === 0) return { created: new Map(), policy: { ledger: new Map(), held: new Map() } };
    const rows = await queryRows<
      PolicyStateRow | { kind: 'created'; instance_id: string; events: Record<string, string> | null }
    >(
      tx,
      `WITH created AS (
         INSERT INTO journeys.instances
           (instance_id, journey_key, journey_version, customer_id, occurrence_id, milestone, profile,
            grp, status, step_index, wake_at, entered_at, goal_event, goal_ends_at, cause_event_id,
            goal_reached_at, updated_at)
         SELECT t.*,
                (SELECT min(e.occurred_at) FROM journeys.customer_events e
                  WHERE e.customer_id = t.customer_id AND e.event_type = t.goal_event
                    AND e.occurred_at >= t.entered_at AND e.occurred_at <= t.goal_ends_at
                    AND e.event_id IS DISTINCT FROM t.cause_event_id),
                $16::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[],
                       $8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::timestamptz[],
                       $13::text[], $14::timestamptz[], $15::text[])
                AS t(instance_id, journey_key, journey_version, customer_id, occurrence_id, milestone, profile,
                     grp, status, step_index, wake_at, entered_at, goal_event, goal_ends_at, cause_event_id)
         ON CONFLICT DO NOTHING
         RETURNING instance_id, customer_id, entered_at, cause_event_id)
       SELECT 'created' AS kind, i.instance_id, i.customer_id, NULL::text AS journey_key, NULL::int AS priority,
              NULL::text AS channel, i.entered_at AS at, NULL::text AS local_day, NULL::boolean AS pending,
              ${EVENTS_SINCE_ENTRY} AS events
         FROM created i
       UNION ALL
       SELECT p.*, NULL::jsonb FROM (${policyStateSql('$17', '$18')}) AS p
       ORDER BY kind, at`,
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
        policyOf.customers,
        policyOf.since,
      ],
    );
    const created = new Map<string, Map<string, Date>>();
    const policy: PolicyStateRow[] = [];
    for (const row of rows) {
      if (row.kind === 'created') created.set(row.instance_id, eventTimesOf(row.events));
      else policy.push(row);
    }
    return { created, policy: policyStateOfRows(policy) };
  }

  async updateInstances(tx: EntityManager, states: readonly InstanceState[], now: Date): Promise<void> {
    if (states.length === 0) return;
    await runSql(
      tx,
      `UPDATE journeys.instances i
          SET status = t.status, step_index = t.step_index, wake_at = t.wake_at, wait_reason = t.wait_reason,
              held_at = t.held_at, exit_reason = t.exit_reason, updated_at = $8
         FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::text[])
              AS t(instance_id, status, step_index, wake_at, wait_reason, held_at, exit_reason)
        WHERE i.instance_id = t.instance_id`,
      [...instanceStateColumns(states), now],
    );
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

  /**
   * Claims the send steps of these customers held for an outcome, as `claimDue` does timers
   * (skipping those another claim holds), to decide them now that reports came in.
   */
  async claimHeld(tx: EntityManager, customerIds: readonly string[]): Promise<LoadedInstance[]> {
    if (customerIds.length === 0) return [];
    const rows = await queryRows<InstanceRow>(
      tx,
      `WITH claimed AS MATERIALIZED (
         SELECT * FROM journeys.instances
          WHERE customer_id = ANY($1::text[]) AND status = 'waiting' AND wait_reason = 'outcome'
          ORDER BY held_at, instance_id
          FOR UPDATE SKIP LOCKED)
       SELECT ${LOADED_INSTANCE_COLUMNS}, ${EVENTS_SINCE_ENTRY} AS events
         FROM claimed i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version`,
      [customerIds],
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
      heldAt: row.held_at,
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

/**
 * An UPDATE's `unnest` arrays of instance states, in the order both writers of states name
 * them (updateInstances, RunStore.recordRun): instance_id, status, step_index, wake_at,
 * wait_reason, held_at, exit_reason.
 */
export function instanceStateColumns(states: readonly InstanceState[]): unknown[][] {
  return [
    states.map((s) => s.instanceId),
    states.map((s) => s.status),
    states.map((s) => s.stepIndex),
    states.map((s) => s.wakeAt),
    states.map((s) => s.waitReason),
    states.map((s) => s.heldAt ?? null),
    states.map((s) => s.exitReason),
  ];
}
