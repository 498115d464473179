import { CLOCK, type Clock } from '@mmp/clock';
import { addOutboxAges, addScheduleBacklog, InjectServiceDatabase } from '@mmp/persistence';
import { ScrapedGaugeSources, type ScrapedGauges } from '@mmp/telemetry';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * The journeys service's backlogs, read when /metrics is scraped, one statement per gauge: waits
 * due by the platform clock and not woken (`instances_due_order_idx`), and the oldest pending row of
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
    addScheduleBacklog(
      gauges,
      this.db,
      'journeys.waits',
      `SELECT 1 FROM journeys.instances WHERE status = 'waiting' AND wake_at <= $1`,
      () => this.clock.now(),
    );
    addOutboxAges(gauges, this.db, [
      { table: 'journeys.outbox', timeColumn: 'created_at' },
      { table: 'journeys.instances', timeColumn: 'entered_at', pending: 'entry_published_at IS NULL' },
    ]);
  }
}
