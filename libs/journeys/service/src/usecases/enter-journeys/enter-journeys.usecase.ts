import { CLOCK, type Clock } from '@mmp/clock';
import type { MilestoneReachedV1 } from '@mmp/contracts';
import { arrivalSegments, enterJourney, entryTimeOf, goalWindowOf } from '@mmp/journeys-domain';
import { journeyVersion, ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InstanceStore } from '../../store/instance.store';
import { JourneyVersionStore } from '../../store/journey-version.store';
import { RunStore, type RunPending } from '../../store/run.store';
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
    private readonly versions: JourneyVersionStore,
    private readonly runs: RunStore,
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
    const instanceIds = candidates.map((c) => c.record.state.instanceId);
    const { pending, versionsSaved } = await this.instances.transaction(async (tx) => {
      // Once, in one order, for every segment: events being committed for these customers right
      // now are either in the reads of the kept events below or see these instances (see
      // TrackCustomerEventsUsecase), and the policies decide one batch at a time per customer.
      // A statement of its own: the reads that follow take their snapshot once it is held.
      await this.ledger.lockCustomers(tx, [...new Set(candidates.map((c) => c.record.state.customerId))]);
      const saved = await this.versions.saveVersions(tx, [...versions.values()], now);
      // Usually one segment; a journey and customer twice in one batch (a re-armed milestone, a
      // redelivery) is entered after the first has run, so re-entry sees what the first left.
      const segments = arrivalSegments(
        candidates,
        (c) => `${c.definition.key}\u0000${c.record.state.customerId}`,
      );
      let left: RunPending = { added: [], entries: [], messages: [] };
      for (const [index, segment] of segments.entries()) {
        // The last segment's writes read back what is left to publish: instances created now,
        // and any a crash left with an unpublished entry or send.
        left = await this.enterSegment(tx, segment, now, index === segments.length - 1 ? instanceIds : []);
      }
      return { pending: left, versionsSaved: saved };
    });
    versionsSaved();
    // Side by side: two topics, whose consumers never relied on one reaching them before the
    // other, so the message requests need not wait for the entries' produce and mark. Each is
    // marked after its own publish, so a failure or crash leaves only what was not published
    // unmarked, for the redelivery; both settle before a failure is thrown to retry the batch.
    const published = await Promise.allSettled([
      this.runner.publishEntries(pending.entries),
      this.runner.publish(pending.messages),
    ]);
    const failed = published.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Enters a segment in two statements: the insert, which reads back what the created instances
   * need to be decided (their customers' events since entry, ledger and held sends), and the
   * writes of their run (RunStore.recordRun).
   */
  private async enterSegment(
    tx: EntityManager,
    segment: readonly RunItem[],
    now: Date,
    pendingOf: readonly string[],
  ): Promise<RunPending> {
    const { created, policy } = await this.instances.insertInstances(
      tx,
      segment.map((c) => c.record),
      now,
      { customers: this.runner.customersOf(segment), since: this.runner.ledgerSince(now) },
    );
    // In arrival order, whatever the priorities: a batch decides collisions as single arrivals would.
    const started = segment.flatMap((c) => {
      const eventsSinceEntry = created.get(c.record.state.instanceId);
      return eventsSinceEntry ? [{ ...c, eventsSinceEntry }] : [];
    });
    const { states, outbox, sent } =
      started.length > 0 ? this.runner.decide(started, policy, now) : { states: [], outbox: [], sent: [] };
    return this.runs.recordRun(tx, { sends: sent, states, outbox, pendingOf }, now);
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
