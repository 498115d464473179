import { journeyReport } from '@mmp/analytics-domain';
import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { JourneyMetricsTopic, type JourneyMetricsV1 } from '@mmp/contracts';
import { describeError } from '@mmp/errors';
import { ProgramStore } from '@mmp/program';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { JourneyMetricsStore } from '../../store/journey-metrics.store';

/**
 * Metrics are snapshots: every five minutes is fresh enough for a data team's dashboards and
 * keeps the store's heaviest query (one per journey) off the hot path.
 */
const PUBLISH_INTERVAL_MS = 5 * 60_000;

/**
 * Publishes a snapshot of every journey of the program on analytics.journey-metrics.v1, keyed
 * by journey key (a compacted topic keeps the latest per journey). Every service instance
 * publishes; a consumer keeps the newest `computedAt`.
 */
@Injectable()
export class PublishJourneyMetricsUseCase implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PublishJourneyMetricsUseCase.name);
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly metrics: JourneyMetricsStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.interval = setInterval(() => {
      this.running ??= this.publishNow()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`journey metrics not published: ${describeError(error)}`))
        .finally(() => {
          this.running = undefined;
        });
    }, PUBLISH_INTERVAL_MS);
    this.interval.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.interval);
    await this.running;
  }

  /** One snapshot per journey of the program in force, in one publish. */
  async publishNow(): Promise<JourneyMetricsV1[]> {
    const computedAt = this.clock.now().toISOString();
    const snapshots: JourneyMetricsV1[] = [];
    for (const journey of this.program.current().journeys) {
      const report = journeyReport(journey.key, await this.metrics.figures(journey.key));
      snapshots.push({
        schemaVersion: 1,
        journeyKey: journey.key,
        computedAt,
        counts: {
          entered: report.entered,
          holdout: report.holdout,
          // Messages, as this topic always counted them (the report's funnel counts customers).
          sent: report.messages.sent,
          delivered: report.messages.delivered,
          opened: report.messages.opened,
          clicked: report.messages.clicked,
          bounced: report.messages.bounced,
          failed: report.messages.failed,
          suppressed: report.messages.suppressed,
          conversionsTreatment: report.conversions.treatment,
          conversionsHoldout: report.conversions.holdout,
        },
      });
    }
    if (snapshots.length > 0)
      await this.bus.publish(
        JourneyMetricsTopic,
        snapshots.map((value) => ({ key: value.journeyKey, value })),
      );
    return snapshots;
  }
}
