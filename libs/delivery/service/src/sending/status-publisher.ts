import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { MessagesEventsTopic } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { MessageStore } from '../store/message.store';

/** Publishes the outbox's pending status events of some messages on messages.events.v1, then marks them. */
@Injectable()
export class StatusPublisher {
  constructor(
    private readonly store: MessageStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async publishPending(messageIds: readonly string[]): Promise<void> {
    const pending = await this.store.pendingStatusEvents(messageIds);
    if (pending.length === 0) return;
    await this.bus.publish(
      MessagesEventsTopic,
      pending.map((p) => ({ key: p.payload.customerId, value: p.payload })),
    );
    await this.store.markStatusEventsPublished(
      pending.map((p) => p.eventId),
      this.clock.now(),
    );
  }
}
