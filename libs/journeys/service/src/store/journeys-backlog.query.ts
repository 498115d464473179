import { CLOCK, type Clock } from '@mmp/clock';
import { countOf, InjectServiceDatabase, readOldestPendingAges } from '@mmp/persistence';
import {
  outboxAgeSamples,
  OUTBOX_OLDEST_PENDING_AGE,
  SCHEDULE_BACKLOG,
  ScrapedGaugeSources,
  type ScrapedGauges,
} from '@mmp/telemetry';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * The journeys service's backlogs, read when /metrics is scraped, one statement per gauge: waits
 * due by the platform clock and not woken (`instances_due_idx`), and the oldest pending row of
 * the message-request outbox and of the entry outbox (their partial indexes).
 */
@Injectable()
export class JourneysBacklogQuery extends ScrapedGaugeSources {
  constructor(
    @InjectServiceDatabase('journeys') private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    gauges.add(SCHEDULE_BACKLOG, async () => [
      {
        labels: { schedule: 'journeys.waits' },
        value: await countOf(
          this.db,
          `SELECT 1 FROM journeys.instances WHERE status = 'waiting' AND wake_at <= $1`,
          [this.clock.now()],
        ),
      },
    ]);
    gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () =>
      outboxAgeSamples(
        await readOldestPendingAges(this.db, [
          { table: 'journeys.outbox', timeColumn: 'created_at' },
          { table: 'journeys.instances', timeColumn: 'entered_at', pending: 'entry_published_at IS NULL' },
        ]),
      ),
    );
  }
}
