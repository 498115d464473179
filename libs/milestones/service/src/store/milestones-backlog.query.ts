import { CLOCK, type Clock } from '@mmp/clock';
import { addOutboxAges, addScheduleBacklog, InjectServiceDatabase } from '@mmp/persistence';
import { ScrapedGaugeSources, type ScrapedGauges } from '@mmp/telemetry';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * The milestones service's backlogs, read when /metrics is scraped, one statement per gauge:
 * schedule rows due by the platform clock and not fired (`schedule_fire_at_idx`), and the oldest
 * occurrence not yet on milestones.reached.v1 (the `published_at IS NULL` partial index).
 */
@Injectable()
export class MilestonesBacklogQuery extends ScrapedGaugeSources {
  constructor(
    @InjectServiceDatabase('milestones') private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    addScheduleBacklog(
      gauges,
      this.db,
      'milestones.schedule',
      `SELECT 1 FROM milestones.schedule WHERE fire_at <= $1`,
      () => this.clock.now(),
    );
    addOutboxAges(gauges, this.db, [
      {
        table: 'milestones.occurrences',
        // A row from before recorded_at existed counts from its last claim (publish_after less the lease).
        timeColumn: `coalesce(recorded_at, publish_after - interval '30 seconds')`,
      },
    ]);
  }
}
