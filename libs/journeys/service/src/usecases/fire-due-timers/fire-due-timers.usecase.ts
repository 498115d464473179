import { CLOCK, type Clock } from '@mmp/clock';
import { Inject, Injectable } from '@nestjs/common';
import { JourneyStore, type OutboxMessage } from '../../store/journey.store';
import { JourneyRunner } from '../journey-runner';

export const DUE_TIMERS_PER_CLAIM = 500;

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
      const outbox: OutboxMessage[] = [];
      const states = due.map((instance) => {
        const result = this.runner.run(instance.definition, instance, instance.eventsSinceEntry, now);
        outbox.push(...result.outbox);
        return result.state;
      });
      await this.store.updateInstances(tx, states, now);
      await this.store.insertOutbox(tx, outbox, now);
      return states.map((s) => s.instanceId);
    });
    await this.runner.publishPending(fired);
    return fired.length;
  }
}
