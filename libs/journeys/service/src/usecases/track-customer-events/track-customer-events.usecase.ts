import { CLOCK, type Clock } from '@mmp/clock';
import { isErasureEvent, type CustomerEventV1 } from '@mmp/contracts';
import { exitOnEvent } from '@mmp/journeys-domain';
import { Inject, Injectable } from '@nestjs/common';
import { JourneyStore } from '../../store/journey.store';

/**
 * customer.events.v1 in: live instances learn what the customer did since entering (for
 * branches), `exitOn` events end them at once, and their profile snapshot stays current. Every
 * instance, live or ended, treatment or holdout, records its goal when the event is within its window.
 * A `customer.erased` event blanks the customer's traits everywhere journeys keeps them and ends
 * their live instances.
 */
@Injectable()
export class TrackCustomerEventsUsecase {
  constructor(
    private readonly store: JourneyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly CustomerEventV1[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      // An erased customer leaves no personal data here, and nothing more is sent to them.
      const erased = events.filter(isErasureEvent).map((e) => e.customerId);
      if (erased.length > 0) await this.store.eraseCustomers(tx, erased, now);
      await this.store.recordGoals(
        tx,
        events.map((e) => ({ customerId: e.customerId, type: e.type, occurredAt: new Date(e.occurredAt) })),
      );
      const live = await this.store.lockLiveInstances(tx, [...new Set(events.map((e) => e.customerId))]);
      if (live.length === 0) return;
      const seen: { instanceId: string; eventType: string }[] = [];
      const profiles = new Map<string, CustomerEventV1['profile']>();
      const exited = [];
      for (const instance of live) {
        let state = instance.state;
        const mine = events
          .filter((e) => e.customerId === state.customerId && new Date(e.occurredAt) >= state.enteredAt)
          .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
        for (const event of mine) {
          seen.push({ instanceId: state.instanceId, eventType: event.type });
          profiles.set(state.instanceId, event.profile);
          state = exitOnEvent(instance.definition, state, event.type);
        }
        if (state !== instance.state) exited.push(state);
      }
      await this.store.recordEvents(tx, seen);
      await this.store.updateProfiles(
        tx,
        [...profiles].map(([instanceId, profile]) => ({ instanceId, profile })),
      );
      await this.store.updateInstances(tx, exited, now);
    });
  }
}
