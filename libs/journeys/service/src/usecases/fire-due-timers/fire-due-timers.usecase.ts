import { CLOCK, type Clock } from '@mmp/clock';
import { parseDuration, ProgramStore } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CustomerEventStore } from '../../store/customer-event.store';
import { InstanceStore, type LoadedInstance } from '../../store/instance.store';
import { RunStore } from '../../store/run.store';
import { JourneyRunner } from '../journey-runner';

export const DUE_TIMERS_PER_CLAIM = 500;
/**
 * An outbox message still unpublished this long after its commit was stranded by a crash (or a
 * failed publish): no redelivery will come for a send a timer made, so the scheduler publishes it.
 */
export const STRANDED_AFTER_MS = 30_000;
const PRUNE_EVERY_MS = 60_000;
const PRUNED_PER_ROUND = 5_000;
const PRUNE_ROUNDS = 20;

/** Wakes instances whose wait is over and runs them to their next wait, exit or end. */
@Injectable()
export class FireDueTimersUsecase {
  private lastPrunedAt: Date | undefined;

  constructor(
    private readonly instances: InstanceStore,
    private readonly customerEvents: CustomerEventStore,
    private readonly runs: RunStore,
    private readonly runner: JourneyRunner,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Fires one claim's worth of due timers; returns how many it fired (0 when none are due). */
  async fireOnce(limit = DUE_TIMERS_PER_CLAIM): Promise<number> {
    return this.fire((tx, now) => this.instances.claimDue(tx, now, limit));
  }

  /**
   * Runs the send steps of these customers held for delivery's reports, at once rather than
   * at their next look, once reports came in; returns how many it ran.
   */
  async fireHeldOf(customerIds: readonly string[]): Promise<number> {
    return this.fire((tx) => this.instances.claimHeld(tx, customerIds));
  }

  private async fire(claim: (tx: EntityManager, now: Date) => Promise<LoadedInstance[]>): Promise<number> {
    const now = this.clock.now();
    const fired = await this.instances.transaction(async (tx) => {
      const due = await claim(tx, now);
      if (due.length === 0) return { count: 0, outbox: [] };
      const { states, outbox, sent } = await this.runner.runAll(
        tx,
        due.map((instance) => ({
          definition: instance.definition,
          record: instance,
          eventsSinceEntry: instance.eventsSinceEntry,
        })),
        now,
      );
      const { added } = await this.runs.recordRun(tx, { sends: sent, states, outbox, pendingOf: [] }, now);
      return { count: states.length, outbox: added };
    });
    // Published from memory once committed; a crash before this is repaired by publishStale.
    await this.runner.publish(fired.outbox);
    return fired.count;
  }

  /**
   * Deletes kept customer events no instance can need any more (older than the grace period and
   * counted by no live instance), at most once a minute, a claim's worth at a time; returns how many.
   */
  async pruneEventHistory(): Promise<number> {
    const now = this.clock.now();
    if (this.lastPrunedAt && now.getTime() - this.lastPrunedAt.getTime() < PRUNE_EVERY_MS) return 0;
    this.lastPrunedAt = now;
    const graceMs = parseDuration(this.program.current().policies.milestoneGracePeriod);
    const before = new Date(now.getTime() - graceMs);
    let total = 0;
    for (let round = 0; round < PRUNE_ROUNDS; round++) {
      const pruned = await this.customerEvents.pruneCustomerEvents(before, PRUNED_PER_ROUND);
      total += pruned;
      if (pruned < PRUNED_PER_ROUND) break;
    }
    return total;
  }

  /** Publishes outbox messages a crash stranded; returns how many. */
  async publishStranded(): Promise<number> {
    return this.runner.publishStale(STRANDED_AFTER_MS, DUE_TIMERS_PER_CLAIM);
  }
}
