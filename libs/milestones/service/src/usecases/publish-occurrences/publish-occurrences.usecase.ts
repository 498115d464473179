import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { MilestonesReachedTopic, type MilestoneReachedV1 } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { OccurrenceStore } from '../../store/occurrence.store';

export const STALE_OCCURRENCES_PER_CLAIM = 500;

/**
 * The outbox's far side: publishes recorded occurrences on milestones.reached.v1 and marks them.
 * A crash or a failed publish leaves them unmarked, and they go out again later, once.
 */
@Injectable()
export class PublishOccurrencesUsecase {
  constructor(
    private readonly occurrences: OccurrenceStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async publish(messages: readonly MilestoneReachedV1[]): Promise<void> {
    if (messages.length === 0) return;
    await this.bus.publish(
      MilestonesReachedTopic,
      messages.map((value) => ({ key: value.customerId, value })),
    );
    await this.occurrences.markPublished(
      messages.map((m) => m.occurrenceId),
      this.clock.now(),
    );
  }

  /** Republishes occurrences whose publisher gave up or died; returns how many it claimed. */
  async republishStale(limit = STALE_OCCURRENCES_PER_CLAIM): Promise<number> {
    const stale = await this.occurrences.claimStale(limit);
    await this.publish(stale);
    return stale.length;
  }
}
