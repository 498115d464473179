import { CLOCK, type Clock } from '@mmp/clock';
import type { MilestoneReachedV1 } from '@mmp/contracts';
import { enterJourney, goalWindowOf } from '@mmp/journeys-domain';
import { journeyVersion, ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { JourneyStore } from '../../store/journey.store';
import { JourneyRunner, type RunItem } from '../journey-runner';

/** milestones.reached.v1 in: every journey the milestone triggers is entered once per occurrence. */
@Injectable()
export class EnterJourneysUsecase {
  constructor(
    private readonly store: JourneyStore,
    private readonly runner: JourneyRunner,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(reached: readonly MilestoneReachedV1[]): Promise<void> {
    const now = this.clock.now();
    const journeys = this.program.current().journeys;
    const versions = new Map<string, { key: string; version: string; definition: JourneyDefinition }>();
    const candidates: RunItem[] = [];
    for (const milestone of reached) {
      for (const journey of journeys.filter((j) => j.trigger === milestone.milestoneKey)) {
        const version = journeyVersion(journey);
        versions.set(`${journey.key}@${version}`, { key: journey.key, version, definition: journey });
        candidates.push({
          definition: journey,
          eventsSinceEntry: new Set(),
          record: {
            state: enterJourney(journey, milestone, now),
            goal: goalWindowOf(journey, now, this.runner.timezoneOf(milestone.profile)),
            journeyVersion: version,
            milestone: {
              key: milestone.milestoneKey,
              occurrence: milestone.occurrence,
              ...milestone.context,
            },
            profile: milestone.profile,
          },
        });
      }
    }
    if (candidates.length === 0) return;

    await this.store.transaction(async (tx) => {
      await this.store.saveVersions(tx, [...versions.values()], now);
      const created = await this.store.insertInstances(
        tx,
        candidates.map((c) => c.record),
        now,
      );
      // Within one batch the higher priority runs first, so its send wins a same-day collision
      // however the milestones were ordered (the sort is stable: equal priorities keep arrival order).
      const started = candidates
        .filter((c) => created.has(c.record.state.instanceId))
        .sort((a, b) => b.definition.priority - a.definition.priority);
      const { states, outbox } = await this.runner.runAll(tx, started, now);
      await this.store.updateInstances(tx, states, now);
      await this.store.insertOutbox(tx, outbox, now);
    });
    // Instances created now, and any a crash left with unpublished sends.
    const instanceIds = candidates.map((c) => c.record.state.instanceId);
    await this.runner.publishEntries(instanceIds);
    await this.runner.publishPending(instanceIds);
  }
}
