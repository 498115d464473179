import type { JourneyEntryV1, MessageRequestedV1 } from '@mmp/contracts';
import type { InstanceState } from '@mmp/journeys-domain';
import { queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { instanceStateColumns } from './instance.store';
import { ENTRY_COLUMNS, toEntry, type EntryRow, type OutboxMessage } from './outbox.store';
import type { LedgerRecord } from './send-ledger.store';

/** What a run of instances decided: the sends that went out, the new states, the messages to send. */
export interface RunWrites {
  sends: readonly LedgerRecord[];
  states: readonly InstanceState[];
  outbox: readonly OutboxMessage[];
  /**
   * Instances whose unpublished entries and messages to read back, those of this run included
   * and any a crash left unpublished (an entry's redelivery repairs its own): empty for timers,
   * which publish what they add and leave strays to the sweep.
   */
  pendingOf: readonly string[];
}

/** What to publish once the run's transaction committed. */
export interface RunPending {
  /** The run's messages actually added (one already there is left alone), in the order given. */
  added: OutboxMessage[];
  /** Unpublished entries of `pendingOf`, oldest first. */
  entries: JourneyEntryV1[];
  /** Unpublished messages of `pendingOf`, this run's included, oldest first. */
  messages: OutboxMessage[];
}

/** A row the run's statement reads back: an unpublished entry, an unpublished message, or one it added. */
type PendingRow =
  | (EntryRow & { kind: 'entry' })
  | { kind: 'message'; instance_id: string; message_id: string; payload: MessageRequestedV1 }
  | { kind: 'added'; instance_id: string; message_id: string };

/**
 * The writes of a run of instances (entries, timers, held sends), in one statement: the
 * ledger's new sends (`journeys.send_ledger`), the instances' new states, their messages
 * (`journeys.outbox`), and what is left to publish. Each used to be a statement of its own, a
 * round trip each on the hot path of every milestone batch; a statement's data-modifying CTEs all
 * run, in the caller's transaction, so a crash keeps all of them or none.
 */
@Injectable()
export class RunStore {
  async recordRun(tx: EntityManager, run: RunWrites, now: Date): Promise<RunPending> {
    const { sends, states, outbox, pendingOf } = run;
    if (sends.length === 0 && states.length === 0 && outbox.length === 0 && pendingOf.length === 0)
      return { added: [], entries: [], messages: [] };
    // The reads of `pendingOf` see the statement's snapshot: this transaction's earlier entries,
    // not the messages `added` inserts, which come back by RETURNING instead.
    const rows = await queryRows<PendingRow>(
      tx,
      `WITH sent AS (
         INSERT INTO journeys.send_ledger (message_id, customer_id, journey_key, priority, channel, sent_at, local_day)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::date[])
         ON CONFLICT (message_id) DO NOTHING),
       moved AS (
         UPDATE journeys.instances i
            SET status = t.status, step_index = t.step_index, wake_at = t.wake_at, wait_reason = t.wait_reason,
                held_at = t.held_at, exit_reason = t.exit_reason, updated_at = $19
           FROM unnest($8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::text[], $13::timestamptz[],
                       $14::text[]) AS t(instance_id, status, step_index, wake_at, wait_reason, held_at, exit_reason)
          WHERE i.instance_id = t.instance_id),
       added AS (
         INSERT INTO journeys.outbox (message_id, instance_id, payload, created_at)
         SELECT m, i, p, $19 FROM unnest($15::text[], $16::text[], $17::jsonb[]) AS t(m, i, p)
         ON CONFLICT (message_id) DO NOTHING
         RETURNING message_id, instance_id, created_at)
       SELECT 'entry' AS kind, NULL::text AS message_id, NULL::jsonb AS payload, entered_at AS at, ${ENTRY_COLUMNS}
         FROM journeys.instances WHERE instance_id = ANY($18::text[]) AND entry_published_at IS NULL
       UNION ALL
       SELECT 'message', message_id, payload, created_at, instance_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM journeys.outbox WHERE instance_id = ANY($18::text[]) AND published_at IS NULL
       UNION ALL
       SELECT 'added', message_id, NULL, created_at, instance_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM added
       ORDER BY kind, at, message_id, instance_id`,
      [
        sends.map((s) => s.messageId),
        sends.map((s) => s.customerId),
        sends.map((s) => s.journeyKey),
        sends.map((s) => s.priority),
        sends.map((s) => s.channel),
        sends.map((s) => s.sentAt),
        sends.map((s) => s.localDay),
        ...instanceStateColumns(states),
        outbox.map((m) => m.messageId),
        outbox.map((m) => m.instanceId),
        outbox.map((m) => JSON.stringify(m.payload)),
        pendingOf,
        now,
      ],
    );
    const addedIds = new Set(rows.filter((row) => row.kind === 'added').map((row) => row.message_id));
    const added = outbox.filter((m) => addedIds.has(m.messageId));
    const entries: JourneyEntryV1[] = [];
    const earlier: OutboxMessage[] = [];
    for (const row of rows) {
      if (row.kind === 'entry') entries.push(toEntry(row));
      else if (row.kind === 'message')
        earlier.push({ messageId: row.message_id, instanceId: row.instance_id, payload: row.payload });
    }
    // The run's own messages are of `pendingOf` too when its instances are: written now, after
    // any a crash left, in the order the old read by (created_at, message_id) gave them.
    const pendingIds = new Set(pendingOf);
    const own = added
      .filter((m) => pendingIds.has(m.instanceId))
      .sort((a, b) => (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
    return { added, entries, messages: [...earlier, ...own] };
  }
}
