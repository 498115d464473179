import type { JourneyEntryV1, MessageRequestedV1 } from '@mmp/contracts';
import type { Group } from '@mmp/journeys-domain';
import {
  InjectServiceDatabase,
  markOutboxPublished,
  pendingOutboxRows,
  type OutboxSelection,
  type OutboxTable,
} from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface OutboxMessage {
  messageId: string;
  instanceId: string;
  payload: MessageRequestedV1;
}

/** messages.requested.v1 messages, written with the step that sends them. */
const MESSAGE_OUTBOX: OutboxTable = {
  table: 'journeys.outbox',
  key: ['message_id'],
  selectedBy: 'instance_id',
  writtenAt: 'created_at',
  tieBreak: 'message_id',
};

/** journeys.entries.v1 entries: the instance rows themselves, marked in `entry_published_at`. */
const ENTRY_OUTBOX: OutboxTable = {
  table: 'journeys.instances',
  key: ['instance_id'],
  selectedBy: 'instance_id',
  writtenAt: 'entered_at',
  tieBreak: 'instance_id',
  publishedAt: 'entry_published_at',
};

/**
 * Journeys' two outboxes: the messages its steps send (`journeys.outbox`, to
 * messages.requested.v1) and the entries of its instances (`entry_published_at` of
 * `journeys.instances`, to journeys.entries.v1). Both are written in the transaction of the
 * change they announce, published after the commit, and swept when left unpublished.
 */
@Injectable()
export class OutboxStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /** Outbox messages still unpublished that were written before `before`, oldest first. */
  async staleOutbox(before: Date, limit: number): Promise<OutboxMessage[]> {
    return this.unpublishedMessages({ writtenBefore: before, limit });
  }

  async markPublished(messageIds: readonly string[], now: Date): Promise<void> {
    await markOutboxPublished(this.db, MESSAGE_OUTBOX, [messageIds], now);
  }

  /** Entries still unpublished long after their commit: stranded by a crash with no redelivery to come. */
  async staleEntries(before: Date, limit: number): Promise<JourneyEntryV1[]> {
    return this.unpublishedEntries({ writtenBefore: before, limit });
  }

  async markEntriesPublished(instanceIds: readonly string[], now: Date): Promise<void> {
    await markOutboxPublished(this.db, ENTRY_OUTBOX, [instanceIds], now);
  }

  private async unpublishedMessages(selection: OutboxSelection): Promise<OutboxMessage[]> {
    const rows = await pendingOutboxRows<{
      message_id: string;
      instance_id: string;
      payload: MessageRequestedV1;
    }>(this.db, MESSAGE_OUTBOX, 'message_id, instance_id, payload', selection);
    return rows.map((row) => ({
      messageId: row.message_id,
      instanceId: row.instance_id,
      payload: row.payload,
    }));
  }

  private async unpublishedEntries(selection: OutboxSelection): Promise<JourneyEntryV1[]> {
    const rows = await pendingOutboxRows<EntryRow>(this.db, ENTRY_OUTBOX, ENTRY_COLUMNS, selection);
    return rows.map(toEntry);
  }
}

/** An instance row as its journeys.entries.v1 entry reads it (ENTRY_COLUMNS). */
export interface EntryRow {
  instance_id: string;
  journey_key: string;
  journey_version: string;
  customer_id: string;
  milestone_key: string;
  grp: Group;
  entered_at: Date;
  goal_event: string | null;
  goal_ends_at: Date | null;
  cause_event_id: string | null;
}

/** The columns of `journeys.instances` an entry is made of, as EntryRow names them. */
export const ENTRY_COLUMNS = `instance_id, journey_key, journey_version, customer_id, milestone ->> 'key' AS milestone_key,
       grp, entered_at, goal_event, goal_ends_at, cause_event_id`;

export function toEntry(row: EntryRow): JourneyEntryV1 {
  return {
    schemaVersion: 1,
    instanceId: row.instance_id,
    journeyKey: row.journey_key,
    journeyVersion: row.journey_version,
    customerId: row.customer_id,
    milestoneKey: row.milestone_key,
    group: row.grp,
    enteredAt: row.entered_at.toISOString(),
    causeEventId: row.cause_event_id,
    goal:
      row.goal_event && row.goal_ends_at
        ? { event: row.goal_event, windowEndsAt: row.goal_ends_at.toISOString() }
        : null,
  };
}
