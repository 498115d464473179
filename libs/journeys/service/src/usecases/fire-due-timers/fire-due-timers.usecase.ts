import { CLOCK, type Clock } from '@mmp/clock';
import { Inject, Injectable } from '@nestjs/common';
import { JourneyStore } from '../../store/journey.store';
import { JourneyRunner } from '../journey-runner';

export const DUE_TIMERS_PER_CLAIM = 500;
/**
 * An outbox message still unpublished this long after its commit was stranded by a crash (or a
 * failed publish): no redelivery will come for a send a timer made, so the scheduler publishes it.
 */
export const STRANDED_AFTER_MS = 30_000;

/** Wakes instances whose wait is over and runs them to their next wait, exit or end. */
@Injectable()
export class FireDueTimersUsecase {
  constructor(
    private readonly store: JourneyStore,
    private readonly runner: JourneyRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Fires one claim's worth of due timers; returns how many it fired (0 when none are due). */
  async fireOnce(limit = DUE_TIMERS_PER_CLAIM): Promise<number> {
    const now = this.clock.now();
    const fired = await this.store.transaction(async (tx) => {
      const due = await this.store.claimDue(tx, now, limit);
      if (due.length === 0) return { count: 0, outbox: [] };
      const { states, outbox } = await this.runner.runAll(
        tx,
        due.map((instance) => ({
          definition: instance.definition,
          record: instance,
          eventsSinceEntry: instance.eventsSinceEntry,
        })),
        now,
      );
      await this.store.updateInstances(tx, states, now);
      return { count: states.length, outbox: await this.store.insertOutbox(tx, outbox, now) };
    });
    // Published from memory once committed; a crash before this is repaired by publishStale.
    await this.runner.publish(fired.outbox);
    return fired.count;
  }

  /** Publishes outbox messages a crash stranded; returns how many. */
  async publishStranded(): Promise<number> {
    return this.runner.publishStale(STRANDED_AFTER_MS, DUE_TIMERS_PER_CLAIM);
  }
}
