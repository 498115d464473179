import { addOutboxAges, InjectServiceDatabase } from '@mmp/persistence';
import { ScrapedGaugeSources, type ScrapedGauges } from '@mmp/telemetry';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** Consent's outbox, read when /metrics is scraped: the oldest change not yet on consent.changes.v1. */
@Injectable()
export class ConsentBacklogQuery extends ScrapedGaugeSources {
  constructor(@InjectServiceDatabase('consent') private readonly db: DataSource) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    addOutboxAges(gauges, this.db, [{ table: 'consent.changes', timeColumn: 'changed_at' }]);
  }
}
