import { CLOCK, type Clock } from '@mmp/clock';
import type { MilestoneReachedV1 } from '@mmp/contracts';
import { arrivalSegments, enterJourney, entryTimeOf, goalWindowOf } from '@mmp/journeys-domain';
import { journeyVersion, ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { GoalStore } from '../../store/goal.store';
import { InstanceStore } from '../../store/instance.store';
import { JourneyVersionStore } from '../../store/journey-version.store';
import { OutboxStore } from '../../store/outbox.store';
import { SendLedgerStore } from '../../store/send-ledger.store';
import { JourneyRunner, type RunItem } from '../journey-runner';

/**
 * milestones.reached.v1 in: every journey the milestone triggers is entered once per occurrence,
 * at the time the milestone was reached. A batch decides what the same milestones one by one
 * would: they run in arrival order, and what the customer did since the entry counts even when
 * it reached journeys before the milestone (see `sinceEntryOf`).
 */
@Injectable()
export class EnterJourneysUsecase {
  constructor(
    private readonly instances: InstanceStore,
    private readonly ledger: SendLedgerStore,
    private readonly goals: GoalStore,
    private readonly versions: JourneyVersionStore,
    private readonly outboxes: OutboxStore,
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
      const enteredAt = entryTimeOf(new Date(milestone.reachedAt), now);
      for (const journey of journeys.filter((j) => j.trigger === milestone.milestoneKey)) {
        const version = versionOf(journey);
        versions.set(`${journey.key}@${version}`, { key: journey.key, version, definition: journey });
        candidates.push({
          definition: journey,
          eventsSinceEntry: new Map(),
          record: {
            state: enterJourney(journey, milestone, enteredAt),
            goal: goalWindowOf(journey, enteredAt, this.runner.timezoneOf(milestone.profile)),
            causeEventId: milestone.causeEventId,
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

    const versionsSaved = await this.instances.transaction(async (tx) => {
      // Once, in one order, for every segment: events being committed for these customers right
      // now are either in the reads of the kept events below or see these instances (see
      // TrackCustomerEventsUsecase), and the policies decide one batch at a time per customer.
      await this.ledger.lockCustomers(tx, [...new Set(candidates.map((c) => c.record.state.customerId))]);
      const saved = await this.versions.saveVersions(tx, [...versions.values()], now);
      // Usually one segment; a journey and customer twice in one batch (a re-armed milestone, a
      // redelivery) is entered after the first has run, so re-entry sees what the first left.
      const segments = arrivalSegments(
        candidates,
        (c) => `${c.definition.key}\u0000${c.record.state.customerId}`,
      );
      for (const segment of segments) await this.enterSegment(tx, segment, now);
      return saved;
    });
    versionsSaved();
    // Instances created now, and any a crash left with unpublished sends.
    const instanceIds = candidates.map((c) => c.record.state.instanceId);
    await this.runner.publishEntries(instanceIds);
    await this.runner.publishPending(instanceIds);
  }

  private async enterSegment(tx: EntityManager, segment: readonly RunItem[], now: Date): Promise<void> {
    const created = await this.instances.insertInstances(
      tx,
      segment.map((c) => c.record),
      now,
    );
    if (created.size === 0) return;
    const ids = [...created];
    await this.goals.recordGoalsFromHistory(tx, ids);
    const history = await this.instances.eventsSinceEntryOf(tx, ids);
    // In arrival order, whatever the priorities: a batch decides collisions as single arrivals would.
    const started = segment
      .filter((c) => created.has(c.record.state.instanceId))
      .map((c) => ({
        ...c,
        eventsSinceEntry: history.get(c.record.state.instanceId) ?? new Map<string, Date>(),
      }));
    const { states, outbox } = await this.runner.runAll(tx, started, now);
    await this.instances.updateInstances(tx, states, now);
    await this.outboxes.insertOutbox(tx, outbox, now);
  }
}

/**
 * Each definition's version, hashed once: a program is replaced whole (ProgramStore.replace),
 * never changed in place, so a definition object keeps its version. Hashing it (canonical JSON,
 * SHA-256) for every milestone of every batch cost about 8 µs per order-path event.
 */
const definitionVersions = new WeakMap<JourneyDefinition, string>();
function versionOf(journey: JourneyDefinition): string {
  let version = definitionVersions.get(journey);
  if (version === undefined) {
    version = journeyVersion(journey);
    definitionVersions.set(journey, version);
  }
  return version;
}
