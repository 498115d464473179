import { CLOCK, type Clock } from '@mmp/clock';
import { isErasureEvent, type CustomerEventV1 } from '@mmp/contracts';
import {
  evaluateCustomerEvents,
  sameFire,
  scheduleCustomerEvents,
  type MilestoneState,
  type TimedSlot,
} from '@mmp/milestones-domain';
import { isTimedMilestone, ProgramStore } from '@mmp/program';
import { withTransaction } from '@mmp/persistence';
import { Inject, Injectable } from '@nestjs/common';
import { OccurrenceStore, type OccurrenceToRecord } from '../../store/occurrence.store';
import { AppliedEventStore } from '../../store/applied-event.store';
import { CustomerViewStore, type CustomerSnapshot } from '../../store/customer-view.store';
import { ScheduleStore, type ScheduleEntry } from '../../store/schedule.store';
import { appliesFromOf } from '../cover-program/cover-program.usecase';
import { PublishOccurrencesUsecase } from '../publish-occurrences/publish-occurrences.usecase';

/**
 * customer.events.v1 in, milestones.reached.v1 out, each occurrence once. One transaction per
 * batch keeps the customer snapshots, the event-driven milestones' states, the schedule of the
 * time-based ones and the occurrence record in step; publishing follows the commit. Everything
 * is computed from the events themselves (their profiles, `occurredAt`, `receivedAt`), one
 * after the other per customer, so neither the batch's size nor the time it is processed at
 * changes the outcome; only the moment a milestone joined the program does.
 */
@Injectable()
export class EvaluateEventsUsecase {
  constructor(
    private readonly occurrences: OccurrenceStore,
    private readonly schedule: ScheduleStore,
    private readonly appliedEvents: AppliedEventStore,
    private readonly customerView: CustomerViewStore,
    private readonly publisher: PublishOccurrencesUsecase,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly CustomerEventV1[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    const { milestones, policies } = this.program.current();
    const timed = milestones.filter(isTimedMilestone);
    // Read beside the transaction's first statements rather than after them: coverage changes
    // only when a milestone joins the program, and a read inside the transaction would not be
    // safer (it sees commits up to its statement, as this one does up to its own). On a pooled
    // connection of its own, asked for before the transaction takes one.
    const coverage = this.schedule.coverage();
    coverage.catch(() => undefined); // awaited below; a transaction that fails first throws its own error

    const messages = await withTransaction(this.schedule.db, async (tx) => {
      // An event applied before is skipped: its profile is older than the snapshot, so applying
      // it again would set the snapshot back and could cross a threshold a second time. Its
      // occurrences are still republished below if their publish failed.
      const fresh = await this.appliedEvents.markApplied(
        tx,
        events.map((event) => event.eventId),
      );
      const byCustomer = groupByCustomer(firstOfEach(events).filter((event) => fresh.has(event.eventId)));
      // In id order: the rows every statement writes come in one order for all instances, so two
      // batches sharing customers during a rebalance queue on them rather than deadlock.
      const customerIds = [...byCustomer.keys()].sort();
      const snapshots = await this.customerView.lockSnapshots(tx, customerIds);
      const slots = await this.schedule.lockSlots(tx, customerIds);
      const states = await this.customerView.states(tx, customerIds);
      const appliesFrom = appliesFromOf(timed, await coverage, now);
      const reached: OccurrenceToRecord[] = [];
      const changedStates: { customerId: string; milestoneKey: string; state: MilestoneState }[] = [];
      const nextSnapshots: CustomerSnapshot[] = [];
      const scheduled: ScheduleEntry[] = [];
      const unscheduled: { customerId: string; milestoneKey: string }[] = [];

      for (const customerId of customerIds) {
        const customerEvents = byCustomer.get(customerId) ?? [];
        const previous = snapshots.get(customerId) ?? null;
        const evaluation = evaluateCustomerEvents(
          milestones,
          previous?.profile ?? null,
          states.get(customerId) ?? new Map(),
          customerEvents,
          now,
        );
        for (const { occurrence, event } of evaluation.reached)
          reached.push({ occurrence, profile: event.profile });
        for (const [milestoneKey, state] of evaluation.states)
          changedStates.push({ customerId, milestoneKey, state });

        const customerSlots = slots.get(customerId) ?? new Map<string, TimedSlot>();
        const { inputs, fires } = scheduleCustomerEvents(
          timed,
          previous,
          customerSlots,
          customerEvents,
          appliesFrom,
          policies.timezone,
        );
        nextSnapshots.push({ customerId, ...inputs });
        // Only slots that moved are written.
        for (const [milestoneKey, fire] of fires) {
          const slot = customerSlots.get(milestoneKey);
          if (sameFire(fire, slot?.fire ?? null)) continue;
          if (fire) scheduled.push({ customerId, milestoneKey, fire });
          else if (slot) unscheduled.push({ customerId, milestoneKey });
        }
      }

      await this.customerView.saveSnapshots(tx, nextSnapshots, now);
      await this.customerView.saveStates(tx, changedStates);
      await this.schedule.upsertSchedule(tx, scheduled);
      await this.schedule.unschedule(tx, unscheduled);
      // An erased customer's snapshot already lost its traits (the erasure event's profile has
      // none); what was scheduled and the profiles kept for publishing go too.
      const erased = [...new Set(events.filter(isErasureEvent).map((event) => event.customerId))];
      await this.schedule.forget(tx, erased);
      await this.occurrences.eraseTraits(tx, erased);
      return this.occurrences.record(
        tx,
        reached,
        events.map((event) => event.eventId),
      );
    });
    await this.publisher.publish(messages);
  }
}

/** Each event once, at its first place in the batch. */
function firstOfEach(events: readonly CustomerEventV1[]): CustomerEventV1[] {
  const seen = new Set<string>();
  return events.filter((event) => !seen.has(event.eventId) && seen.add(event.eventId));
}

function groupByCustomer(events: readonly CustomerEventV1[]): Map<string, CustomerEventV1[]> {
  const byCustomer = new Map<string, CustomerEventV1[]>();
  for (const event of events) {
    const list = byCustomer.get(event.customerId) ?? [];
    list.push(event);
    byCustomer.set(event.customerId, list);
  }
  return byCustomer;
}
