import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { MessagesRequestedTopic, type Channel, type MessageRequestedV1 } from '@mmp/contracts';
import { advance, type InstanceState, type SendEffect } from '@mmp/journeys-domain';
import { ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JourneyStore, type InstanceRecord, type OutboxMessage } from '../store/journey.store';

/**
 * Runs instances through the step machine and hands their sends to the outbox; publishes the
 * outbox after the transaction that wrote it committed. Shared by entry, timers and events.
 */
@Injectable()
export class JourneyRunner {
  private readonly logger = new Logger(JourneyRunner.name);

  constructor(
    private readonly store: JourneyStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  run(
    definition: JourneyDefinition,
    record: InstanceRecord,
    eventsSinceEntry: ReadonlySet<string>,
    now: Date,
  ): { state: InstanceState; outbox: OutboxMessage[] } {
    const timezone = timezoneOf(record.profile.traits) ?? this.program.current().policies.timezone;
    const { instance, effects } = advance(definition, record.state, {
      now,
      timezone,
      eventsSinceEntry,
      profile: record.profile,
    });
    const templates = this.program.current().templates;
    const outbox: OutboxMessage[] = [];
    for (const effect of effects) {
      const template = templates[effect.template];
      if (!template) {
        // Only an instance on an old journey version can name a template the program dropped.
        this.logger.error(
          `journey ${definition.key} step ${effect.stepId}: template ${effect.template} is not in the program; nothing sent`,
        );
        continue;
      }
      outbox.push({
        messageId: effect.messageId,
        instanceId: instance.instanceId,
        payload: toMessageRequested(effect, template.channel, definition, record, now),
      });
    }
    return { state: instance, outbox };
  }

  /** Publishes what the outbox holds for these instances (new sends, and any left by a crash). */
  async publishPending(instanceIds: readonly string[]): Promise<void> {
    const pending = await this.store.pendingOutbox(instanceIds);
    if (pending.length === 0) return;
    await this.bus.publish(
      MessagesRequestedTopic,
      pending.map((m) => ({ key: m.payload.customerId, value: m.payload })),
    );
    await this.store.markPublished(
      pending.map((m) => m.messageId),
      this.clock.now(),
    );
  }
}

function timezoneOf(traits: Readonly<Record<string, unknown>>): string | undefined {
  const zone = traits['timezone'];
  return typeof zone === 'string' && zone.length > 0 ? zone : undefined;
}

function toMessageRequested(
  effect: SendEffect,
  channel: Channel,
  definition: JourneyDefinition,
  record: InstanceRecord,
  now: Date,
): MessageRequestedV1 {
  return {
    schemaVersion: 1,
    messageId: effect.messageId,
    customerId: record.state.customerId,
    journeyKey: definition.key,
    journeyVersion: record.journeyVersion,
    instanceId: record.state.instanceId,
    stepId: effect.stepId,
    milestoneKey: record.milestone.key,
    occurrenceId: record.state.occurrenceId,
    template: effect.template,
    channel,
    variant: effect.variant,
    requestedAt: now.toISOString(),
    milestone: record.milestone,
    offer: definition.offer ?? null,
    customer: record.profile,
  };
}
