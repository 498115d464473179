import { Channel } from '@mmp/contracts';
import { addOutboxAges, InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { RETRY_QUEUE_DEPTH, ScrapedGaugeSources, type ScrapedGauges } from '@mmp/telemetry';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * Delivery's backlogs, read when /metrics is scraped: the retry queue (the partial index on
 * `next_attempt_at`) and the oldest pending row of each outbox (each a `published_at IS NULL`
 * partial index on its time column), one statement per gauge.
 */
@Injectable()
export class DeliveryBacklogQuery extends ScrapedGaugeSources {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    gauges.add(RETRY_QUEUE_DEPTH, async () =>
      (await this.retryQueue()).map(({ channel, waiting }) => ({ labels: { channel }, value: waiting })),
    );
    addOutboxAges(gauges, this.db, [
      { table: 'delivery.status_outbox', timeColumn: 'created_at' },
      { table: 'delivery.dead_letters', timeColumn: 'created_at' },
      { table: 'delivery.unregistered_push_tokens', timeColumn: 'reported_at' },
    ]);
  }

  async retryQueue(): Promise<{ channel: string; waiting: number }[]> {
    return queryRows(
      this.db,
      // Every channel has a series, 0 included, so an alert on it never sees a gap.
      `SELECT c.channel, count(m.message_id)::int AS waiting
         FROM unnest($1::text[]) AS c(channel)
         LEFT JOIN delivery.messages m ON m.channel = c.channel AND m.next_attempt_at IS NOT NULL
        GROUP BY c.channel`,
      [Channel.options],
    );
  }
}
