import { CLOCK, type Clock } from '@mmp/clock';
import { isErasureEvent, type CustomerEventV1 } from '@mmp/contracts';
import { exitOnEvent } from '@mmp/journeys-domain';
import { Inject, Injectable } from '@nestjs/common';
import { CustomerEventStore } from '../../store/customer-event.store';
import { ErasureStore } from '../../store/erasure.store';
import { GoalStore } from '../../store/goal.store';
import { InstanceStore } from '../../store/instance.store';
import { SendLedgerStore } from '../../store/send-ledger.store';

/**
 * customer.events.v1 in: journeys keeps each event's type and time (branches and `exitOn` read
 * them by `occurredAt`, including instances that enter later), `exitOn` events end live
 * instances at once (see `exitOnEvent`), and their profile snapshot stays current. Every
 * instance, live or ended, treatment or holdout, records its goal when the event is within its window.
 * A `customer.erased` event blanks the customer's traits everywhere journeys keeps them and ends
 * their live instances.
 */
@Injectable()
export class TrackCustomerEventsUsecase {
  constructor(
    private readonly instances: InstanceStore,
    private readonly ledger: SendLedgerStore,
    private readonly goals: GoalStore,
    private readonly customerEvents: CustomerEventStore,
    private readonly erasure: ErasureStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly CustomerEventV1[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    await this.instances.transaction(async (tx) => {
      // An erased customer leaves no personal data here, and nothing more is sent to them.
      const erased = events.filter(isErasureEvent).map((e) => e.customerId);
      if (erased.length > 0) await this.erasure.eraseCustomers(tx, erased, now);
      const history = events.map((e) => ({
        customerId: e.customerId,
        eventId: e.eventId,
        type: e.type,
        occurredAt: new Date(e.occurredAt),
      }));
      // Kept for instances that enter later: an event may reach journeys before its milestone.
      await this.customerEvents.recordCustomerEvents(tx, history);
      const customers = [...new Set(events.map((e) => e.customerId))];
      const live = await this.instances.lockLiveInstances(tx, customers);
      // An entry committing at this moment is invisible to the statement above, and these events
      // to its read of the kept events. Entries take the customer's lock before they insert:
      // wait for them, then take in what they committed. The lock comes after the row locks, as
      // for timers, and every instance row this transaction writes comes after it, so entries,
      // timers and this never wait on each other in a cycle.
      await this.ledger.lockCustomers(tx, customers);
      await this.goals.recordGoals(tx, history);
      live.push(
        ...(await this.instances.lockLiveInstances(
          tx,
          customers,
          live.map((instance) => instance.state.instanceId),
        )),
      );
      if (live.length === 0) return;
      const profiles = new Map<string, CustomerEventV1['profile']>();
      const exited = [];
      for (const instance of live) {
        let state = instance.state;
        const mine = events
          .filter(
            (e) =>
              e.customerId === state.customerId &&
              e.eventId !== instance.causeEventId &&
              new Date(e.occurredAt) >= state.enteredAt,
          )
          .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
        for (const event of mine) {
          profiles.set(state.instanceId, event.profile);
          state = exitOnEvent(instance.definition, state, {
            type: event.type,
            occurredAt: new Date(event.occurredAt),
          });
        }
        if (state !== instance.state) exited.push(state);
      }
      await this.instances.updateProfiles(
        tx,
        [...profiles].map(([instanceId, profile]) => ({ instanceId, profile })),
      );
      await this.instances.updateInstances(tx, exited, now);
    });
  }
}
