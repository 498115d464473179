import {
  outboxAgeSamples,
  OUTBOX_OLDEST_PENDING_AGE,
  SCHEDULE_BACKLOG,
  type ScrapedGauges,
} from '@mmp/telemetry';
import { countOf, readOldestPendingAges, type PendingOutbox } from './outbox-age';
import type { SqlExecutor } from './sql';

/** `outbox_oldest_pending_age_seconds` of these outboxes, read in one statement at each scrape. */
export function addOutboxAges(
  gauges: ScrapedGauges,
  executor: SqlExecutor,
  outboxes: readonly PendingOutbox[],
): void {
  gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () =>
    outboxAgeSamples(await readOldestPendingAges(executor, outboxes)),
  );
}

/**
 * `schedule_backlog_due` of one schedule: the rows `dueSql` selects with the clock's now as `$1`
 * (due but not fired), counted at each scrape.
 */
export function addScheduleBacklog(
  gauges: ScrapedGauges,
  executor: SqlExecutor,
  schedule: string,
  dueSql: string,
  now: () => Date,
): void {
  gauges.add(SCHEDULE_BACKLOG, async () => [
    { labels: { schedule }, value: await countOf(executor, dueSql, [now()]) },
  ]);
}
