import { CLOCK, type Clock } from '@mmp/clock';
import { InjectServiceDatabase, oldestPendingAgeColumn, queryRows } from '@mmp/persistence';
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
      { labels: { schedule: 'journeys.waits' }, value: await this.dueUnwoken() },
    ]);
    gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () => outboxAgeSamples(await this.outboxAges()));
  }

  async dueUnwoken(): Promise<number> {
    const [row] = await queryRows<{ due: number }>(
      this.db,
      `SELECT count(*)::int AS due FROM journeys.instances WHERE status = 'waiting' AND wake_at <= $1`,
      [this.clock.now()],
    );
    return row?.due ?? 0;
  }

  async outboxAges(): Promise<Record<string, number>> {
    const [ages] = await queryRows<Record<string, number>>(
      this.db,
      `SELECT ${oldestPendingAgeColumn('journeys.outbox', 'created_at')},
              ${oldestPendingAgeColumn('journeys.instances', 'entered_at', 'entry_published_at IS NULL')}`,
    );
    return ages ?? {};
  }
}
