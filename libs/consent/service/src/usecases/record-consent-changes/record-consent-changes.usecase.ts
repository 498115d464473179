import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { ConsentChangesTopic } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { ConsentStore, type RecordedChange } from '../../store/consent.store';

/**
 * Records consent changes, then publishes on consent.changes.v1 every change not yet published:
 * these, and any a failed publish left behind (each row keeps `published_at` until then).
 * Delivery's view follows the topic, so the change is honoured by every message not yet
 * handed to a provider.
 */
@Injectable()
export class RecordConsentChangesUsecase {
  constructor(
    private readonly store: ConsentStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Returns the ids of the changes recorded (a change that changes nothing is skipped with `onlyIfChanged`). */
  async execute(changes: readonly RecordedChange[], options: { onlyIfChanged: boolean }): Promise<string[]> {
    const recorded = await this.store.record(changes, options);
    await this.publishPending();
    return recorded;
  }

  private async publishPending(): Promise<void> {
    for (;;) {
      const pending = await this.store.unpublished();
      if (pending.length === 0) return;
      await this.bus.publish(
        ConsentChangesTopic,
        pending.map((c) => ({ key: c.customerId, value: c })),
      );
      await this.store.markPublished(
        pending.map((c) => c.changeId),
        this.clock.now(),
      );
    }
  }
}
