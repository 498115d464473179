import type { CustomerProfileSnapshot, MessageRequestedV1 } from '@mmp/contracts';
import type { Group, InstanceState, InstanceStatus } from '@mmp/journeys-domain';
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
}

export type MilestoneContext = MessageRequestedV1['milestone'];

/** A live instance loaded with its definition and the event types seen since it entered. */
export interface LoadedInstance extends InstanceRecord {
  definition: JourneyDefinition;
  eventsSinceEntry: Set<string>;
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
  entered_at: Date;
  exit_reason: string | null;
  definition: JourneyDefinition;
  events: string[] | null;
}

const LOADED_INSTANCE_COLUMNS = `
  i.instance_id, i.journey_key, i.journey_version, i.customer_id, i.occurrence_id, i.milestone, i.profile,
  i.grp, i.status, i.step_index, i.wake_at, i.entered_at, i.exit_reason, v.definition,
  (SELECT array_agg(e.event_type) FROM journeys.instance_events e WHERE e.instance_id = i.instance_id) AS events`;

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
          grp, status, step_index, wake_at, entered_at, updated_at, exit_reason)
       SELECT t.*, $13::timestamptz, NULL::text
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[],
                     $8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::timestamptz[]) AS t
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
          SET status = t.status, step_index = t.step_index, wake_at = t.wake_at, exit_reason = t.exit_reason, updated_at = $6
         FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[])
              AS t(instance_id, status, step_index, wake_at, exit_reason)
        WHERE i.instance_id = t.instance_id`,
      [
        states.map((s) => s.instanceId),
        states.map((s) => s.status),
        states.map((s) => s.stepIndex),
        states.map((s) => s.wakeAt),
        states.map((s) => s.exitReason),
        now,
      ],
    );
  }

  async insertOutbox(tx: EntityManager, messages: readonly OutboxMessage[], now: Date): Promise<void> {
    if (messages.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.outbox (message_id, instance_id, payload, created_at)
       SELECT m, i, p, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(m, i, p)
       ON CONFLICT (message_id) DO NOTHING`,
      [
        messages.map((m) => m.messageId),
        messages.map((m) => m.instanceId),
        messages.map((m) => JSON.stringify(m.payload)),
        now,
      ],
    );
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

  async markPublished(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(this.db, `UPDATE journeys.outbox SET published_at = $2 WHERE message_id = ANY($1::text[])`, [
      messageIds,
      now,
    ]);
  }

  /** Claims due timers; SKIP LOCKED lets several instances of the service share them, none twice. */
  async claimDue(tx: EntityManager, now: Date, limit: number): Promise<LoadedInstance[]> {
    const rows = await queryRows<InstanceRow>(
      tx,
      `SELECT ${LOADED_INSTANCE_COLUMNS}
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.instance_id IN (
          SELECT instance_id FROM journeys.instances
           WHERE status = 'waiting' AND wake_at <= $1
           ORDER BY wake_at
           LIMIT $2
           FOR UPDATE SKIP LOCKED)`,
      [now, limit],
    );
    return rows.map(toLoaded);
  }

  /** Live instances of these customers, locked, for applying their new events. */
  async lockLiveInstances(tx: EntityManager, customerIds: readonly string[]): Promise<LoadedInstance[]> {
    if (customerIds.length === 0) return [];
    const rows = await queryRows<InstanceRow>(
      tx,
      `SELECT ${LOADED_INSTANCE_COLUMNS}
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.customer_id = ANY($1::text[]) AND i.status IN ('active', 'waiting')
        ORDER BY i.instance_id
        FOR UPDATE OF i`,
      [customerIds],
    );
    return rows.map(toLoaded);
  }

  async recordEvents(
    tx: EntityManager,
    pairs: readonly { instanceId: string; eventType: string }[],
  ): Promise<void> {
    if (pairs.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.instance_events (instance_id, event_type)
       SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
      [pairs.map((p) => p.instanceId), pairs.map((p) => p.eventType)],
    );
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

  /** Per customer: journeys entered, where each stands, why it ended. */
  async instancesOf(customerId: string): Promise<CustomerJourney[]> {
    const rows = await queryRows<{
      journey_key: string;
      journey_version: string;
      grp: Group;
      status: InstanceStatus;
      step_id: string | null;
      wake_at: Date | null;
      entered_at: Date;
      exit_reason: string | null;
    }>(
      this.db,
      `SELECT i.journey_key, i.journey_version, i.grp, i.status,
              v.definition -> 'steps' -> i.step_index ->> 'id' AS step_id,
              i.wake_at, i.entered_at, i.exit_reason
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.customer_id = $1
        ORDER BY i.entered_at DESC`,
      [customerId],
    );
    return rows.map((row) => ({
      journeyKey: row.journey_key,
      journeyVersion: row.journey_version,
      group: row.grp,
      status: row.status,
      currentStep: row.status === 'active' || row.status === 'waiting' ? row.step_id : null,
      waitingUntil: row.wake_at?.toISOString() ?? null,
      enteredAt: row.entered_at.toISOString(),
      exitReason: row.exit_reason,
    }));
  }
}

export interface CustomerJourney {
  journeyKey: string;
  journeyVersion: string;
  group: Group;
  status: InstanceStatus;
  currentStep: string | null;
  waitingUntil: string | null;
  enteredAt: string;
  exitReason: string | null;
}

function toLoaded(row: InstanceRow): LoadedInstance {
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
      enteredAt: row.entered_at,
      exitReason: row.exit_reason,
    },
    journeyVersion: row.journey_version,
    milestone: row.milestone,
    profile: row.profile,
    definition: row.definition,
    eventsSinceEntry: new Set(row.events ?? []),
  };
}
