import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { journeyReport, openingStepsOf, type JourneyReport } from '@mmp/analytics-domain';
import { ProgramStore, stepKind } from '@mmp/program';
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
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/analytics/journeys',
      tag: 'analytics',
      summary: 'The journeys of the program in force',

      responses: {
        200: { description: 'Journey keys', schema: z.object({ journeys: z.array(z.string()) }) },
      },
    }),
  )
  journeys(): { journeys: string[] } {
    return { journeys: this.program.current().journeys.map((journey) => journey.key) };
  }

  /** Entrants, message counts, conversions, lift with its interval and revenue: overall, per step, per variant. */
  @Get('v1/analytics/journeys/:journeyKey')
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/analytics/journeys/{journeyKey}',
      tag: 'analytics',
      summary:
        'Entrants, message counts (customers), conversions, lift with its interval and revenue: overall, per step, per variant',
      params: z.object({ journeyKey: z.string().min(1) }),
      responses: { 200: { description: 'The report', schema: z.record(z.string(), z.unknown()) } },
    }),
  )
  async journey(@Param('journeyKey') journeyKey: string): Promise<JourneyReport> {
    const journey = this.program.current().journeys.find((j) => j.key === journeyKey);
    const opening = openingStepsOf(
      journey?.steps.map((step) => ({ id: step.id, kind: stepKind(step) })) ?? [],
    );
    return journeyReport(journeyKey, await this.metrics.figures(journeyKey), opening);
  }
}
