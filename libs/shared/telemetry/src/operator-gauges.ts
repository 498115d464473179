import { addScrapedGaugeSource, type GaugeSource, type ScrapedGaugeDefinition } from './scraped-gauge';

/** Seconds since the oldest row of an outbox that is not yet on its topic was written (0 when none). */
export const OUTBOX_OLDEST_PENDING_AGE: ScrapedGaugeDefinition<'outbox'> = {
  name: 'outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest outbox row not yet published to its topic, by outbox table (0 when none is pending).',
  labelNames: ['outbox'],
};

/** Firings due by the platform clock that their scheduler has not fired yet. */
export const SCHEDULE_BACKLOG: ScrapedGaugeDefinition<'schedule'> = {
  name: 'schedule_backlog_due',
  help: 'Scheduled firings due by the platform clock and not yet fired, by schedule (milestones.schedule, journeys.waits).',
  labelNames: ['schedule'],
};

/** Messages that a provider answered with a retryable error, waiting for their next attempt. */
export const RETRY_QUEUE_DEPTH: ScrapedGaugeDefinition<'channel'> = {
  name: 'delivery_retry_queue_messages',
  help: 'Messages waiting for a retry after a retryable provider error, by channel.',
  labelNames: ['channel'],
};

/**
 * The scraped gauge sources of one service instance: added when its module starts, removed
 * when it stops, so a closed app is not read again.
 */
export class ScrapedGauges {
  private readonly removers: (() => void)[] = [];

  add<L extends string>(definition: ScrapedGaugeDefinition<L>, source: GaugeSource<L>): void {
    this.removers.push(addScrapedGaugeSource(definition, source));
  }

  removeAll(): void {
    for (const remove of this.removers.splice(0)) remove();
  }
}

/**
 * A provider whose gauges are read at scrape time while its module runs: Nest calls the two
 * hooks, which add the sources when the module starts and remove them when it stops.
 */
export abstract class ScrapedGaugeSources {
  private readonly gauges = new ScrapedGauges();

  /** Adds this provider's sources to `gauges`. */
  protected abstract addSources(gauges: ScrapedGauges): void;

  onModuleInit(): void {
    this.addSources(this.gauges);
  }

  onModuleDestroy(): void {
    this.gauges.removeAll();
  }
}

/** The samples of OUTBOX_OLDEST_PENDING_AGE from one row of ages in seconds, keyed by outbox table. */
export function outboxAgeSamples(ages: Record<string, number | string | null>) {
  return Object.entries(ages).map(([outbox, age]) => ({ labels: { outbox }, value: Number(age ?? 0) }));
}
