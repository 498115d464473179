import { AppError } from '@mmp/errors';
import { journeyStepCounts, type JourneyStepCounts } from '@mmp/journeys-domain';
import { journeyVersion, ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Route } from '@mmp/server';
import { Controller, Get, Param } from '@nestjs/common';
import type { z } from 'zod';
import { JourneyMapQuery } from '../store/journey-map.query';
import {
  getJourneyRoute,
  journeyStepsRoute,
  listJourneysRoute,
  type JourneySummary,
} from './journeys.routes';

type Summary = z.infer<typeof JourneySummary>;

function summaryOf(journey: JourneyDefinition, inFlight: number): Summary {
  return {
    key: journey.key,
    version: journeyVersion(journey),
    trigger: journey.trigger,
    priority: journey.priority,
    holdoutPercent: journey.holdoutPercent,
    goal: journey.goal ?? null,
    exitOn: journey.exitOn,
    steps: journey.steps,
    inFlight,
  };
}

/** The console's journey list and live map: definitions from the program, counts from journeys' instances. */
@Controller('v1/journeys')
export class JourneysController {
  constructor(
    private readonly program: ProgramStore,
    private readonly map: JourneyMapQuery,
  ) {}

  @Get()
  @Route(listJourneysRoute)
  async list(): Promise<{ items: Summary[] }> {
    const inFlight = await this.map.inFlight();
    return { items: this.program.current().journeys.map((j) => summaryOf(j, inFlight.get(j.key) ?? 0)) };
  }

  @Get(':journeyKey')
  @Route(getJourneyRoute)
  async get(
    @Param('journeyKey') journeyKey: string,
  ): Promise<Summary & { versions: { version: string; createdAt: string; inFlight: number }[] }> {
    const journey = this.journeyIn(journeyKey);
    const versions = await this.map.versions(journeyKey);
    return {
      ...summaryOf(
        journey,
        versions.reduce((sum, v) => sum + v.inFlight, 0),
      ),
      versions: versions.map(({ version, createdAt, inFlight }) => ({ version, createdAt, inFlight })),
    };
  }

  @Get(':journeyKey/steps')
  @Route(journeyStepsRoute)
  async steps(@Param('journeyKey') journeyKey: string): Promise<JourneyStepCounts> {
    const journey = this.journeyIn(journeyKey);
    const [versions, positions, requests] = await Promise.all([
      this.map.versions(journeyKey),
      this.map.positions(journeyKey),
      this.map.requests(journeyKey),
    ]);
    return journeyStepCounts(
      journey,
      new Map(versions.map((v) => [v.version, v.definition])),
      positions,
      requests,
    );
  }

  private journeyIn(journeyKey: string): JourneyDefinition {
    const journey = this.program.current().journeys.find((j) => j.key === journeyKey);
    if (!journey) throw AppError.notFound(`no journey is called ${journeyKey} in the program in force`);
    return journey;
  }
}
