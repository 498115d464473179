import { journeyReport, type JourneyReport } from '@mmp/analytics-domain';
import { ProgramStore } from '@mmp/program';
import { Controller, Get, Param } from '@nestjs/common';
import { JourneyMetricsStore } from '../store/journey-metrics.store';

@Controller()
export class AnalyticsController {
  constructor(
    private readonly metrics: JourneyMetricsStore,
    private readonly program: ProgramStore,
  ) {}

  /** The journeys of the program in force, for the dashboard's picker. */
  @Get('v1/analytics/journeys')
  journeys(): { journeys: string[] } {
    return { journeys: this.program.current().journeys.map((journey) => journey.key) };
  }

  /** Entrants, message counts, conversions, lift with its interval and revenue: overall, per step, per variant. */
  @Get('v1/analytics/journeys/:journeyKey')
  async journey(@Param('journeyKey') journeyKey: string): Promise<JourneyReport> {
    return journeyReport(journeyKey, await this.metrics.figures(journeyKey));
  }
}
