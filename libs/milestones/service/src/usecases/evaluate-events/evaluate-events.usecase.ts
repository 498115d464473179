import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { MilestonesReachedTopic, type CustomerEventV1, type MilestoneReachedV1 } from '@mmp/contracts';
import { evaluateEvent, type MilestoneOccurrence } from '@mmp/milestones-domain';
import { ProgramStore } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { OccurrenceStore } from '../../store/occurrence.store';

/** customer.events.v1 in, milestones.reached.v1 out, each occurrence once. */
@Injectable()
export class EvaluateEventsUsecase {
  constructor(
    private readonly occurrences: OccurrenceStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly CustomerEventV1[]): Promise<void> {
    const now = this.clock.now();
    const milestones = this.program.current().milestones;
    const reached: { occurrence: MilestoneOccurrence; event: CustomerEventV1 }[] = [];
    for (const event of events) {
      for (const occurrence of evaluateEvent(milestones, event, now)) reached.push({ occurrence, event });
    }
    const toPublish = await this.occurrences.record(reached.map((r) => r.occurrence));
    const messages = reached
      .filter((r) => toPublish.has(r.occurrence.occurrenceId))
      .map(({ occurrence, event }) => ({ key: occurrence.customerId, value: toMessage(occurrence, event) }));
    if (messages.length === 0) return;
    await this.bus.publish(MilestonesReachedTopic, messages);
    await this.occurrences.markPublished(
      messages.map((m) => m.value.occurrenceId),
      this.clock.now(),
    );
  }
}

function toMessage(occurrence: MilestoneOccurrence, event: CustomerEventV1): MilestoneReachedV1 {
  return {
    schemaVersion: 1,
    occurrenceId: occurrence.occurrenceId,
    milestoneKey: occurrence.milestoneKey,
    customerId: occurrence.customerId,
    occurrence: occurrence.occurrence,
    reachedAt: occurrence.reachedAt.toISOString(),
    context: occurrence.context,
    causeEventId: occurrence.causeEventId,
    profile: event.profile,
  };
}
