import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import {
  isValidTimeZone,
  JourneyEntriesTopic,
  MessagesRequestedTopic,
  type Channel,
  type CustomerProfileSnapshot,
  type JourneyEntryV1,
  type MessageRequestedV1,
} from '@mmp/contracts';
import {
  ledgerLookbackMs,
  runInstances,
  type InstanceState,
  type SendEffect,
  type SentMessage,
} from '@mmp/journeys-domain';
import { parseDuration, ProgramStore, type JourneyDefinition } from '@mmp/program';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { InstanceRecord } from '../store/instance.store';
import { OutboxStore, type OutboxMessage } from '../store/outbox.store';
import { SendLedgerStore, type PolicyState } from '../store/send-ledger.store';

/** One instance to run: the definition it entered on, its record, and when the customer first did each event type since. */
export interface RunItem {
  definition: JourneyDefinition;
  record: InstanceRecord;
  eventsSinceEntry: ReadonlyMap<string, Date>;
}

/**
 * Runs instances through the step machine with the send policies (quiet hours, priority
 * collisions, frequency caps) and hands their sends to the outbox; publishes the outbox after
 * the transaction that wrote it committed. Shared by entry and timers.
 */
@Injectable()
export class JourneyRunner {
  private readonly logger = new Logger(JourneyRunner.name);

  constructor(
    private readonly ledger: SendLedgerStore,
    private readonly outboxes: OutboxStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The customer's zone, or the program's default when the profile has none (or an unknown one). */
  timezoneOf(profile: CustomerProfileSnapshot): string {
    const zone = profile.traits['timezone'];
    return typeof zone === 'string' && isValidTimeZone(zone)
      ? zone
      : this.program.current().policies.timezone;
  }

  /**
   * Runs a batch inside `tx`, in the order given: locks its customers, reads their recent sends
   * and held steps in one statement, and decides (see `decide`). The caller writes the sends,
   * the states and the outbox in the same transaction (RunStore.recordRun).
   */
  async runAll(
    tx: EntityManager,
    items: readonly RunItem[],
    now: Date,
  ): Promise<{ states: InstanceState[]; outbox: OutboxMessage[]; sent: SentMessage[] }> {
    const customers = this.customersOf(items);
    await this.ledger.lockCustomers(tx, customers);
    return this.decide(items, await this.ledger.policyStateOf(tx, customers, this.ledgerSince(now)), now);
  }

  /** The customers whose ledger a batch's sends are decided on: treatment only (holdouts send nothing). */
  customersOf(items: readonly RunItem[]): string[] {
    return [
      ...new Set(
        items.filter((i) => i.record.state.group === 'treatment').map((i) => i.record.state.customerId),
      ),
    ];
  }

  /** How far back the ledger counts: the longest frequency cap, and the grace period. */
  ledgerSince(now: Date): Date {
    const program = this.program.current();
    return new Date(now.getTime() - ledgerLookbackMs(program.policies.frequencyCaps) - this.graceMs());
  }

  /**
   * Decides a batch, in the order given, on its customers' policy state read under their lock:
   * every send against the policies at its decision time (later sends of the batch see the
   * earlier ones, as if each had come alone). Returns the new states, the messages, and the
   * sends that go out, for the ledger.
   */
  decide(
    items: readonly RunItem[],
    { ledger, held }: PolicyState,
    now: Date,
  ): { states: InstanceState[]; outbox: OutboxMessage[]; sent: SentMessage[] } {
    const program = this.program.current();
    const records = new Map(items.map((item) => [item.record.state.instanceId, item]));
    const { states, effects, sent } = runInstances(
      items.map(({ definition, record, eventsSinceEntry }) => ({
        journey: definition,
        instance: record.state,
        timezone: this.timezoneOf(record.profile),
        profile: record.profile,
        eventsSinceEntry,
      })),
      ledger,
      {
        now,
        graceMs: this.graceMs(),
        policies: program.policies,
        channelOf: (template) => program.templates[template]?.channel,
      },
      held,
    );
    const outbox: OutboxMessage[] = [];
    for (const { instance, effect } of effects) {
      const item = records.get(instance.instanceId);
      const template = program.templates[effect.template];
      if (!item) continue;
      if (!template) {
        // Only an instance on an old journey version can name a template the program dropped.
        this.logger.error(
          `journey ${item.definition.key} step ${effect.stepId}: template ${effect.template} is not in the program; nothing sent`,
        );
        continue;
      }
      outbox.push({
        messageId: effect.messageId,
        instanceId: instance.instanceId,
        payload: toMessageRequested(effect, template.channel, item.definition, item.record, now),
      });
    }
    return { states, outbox, sent };
  }

  /** How late a step is still decided at its own due time: the program's `milestoneGracePeriod`. */
  private graceMs(): number {
    return parseDuration(this.program.current().policies.milestoneGracePeriod);
  }

  /**
   * Publishes outbox messages that have waited longer than `olderThanMs` (a crash between a
   * commit and its publish, when no redelivery will come to repair it, as after a timer fired).
   * Returns how many it published. A message published twice is harmless: messageId dedupes.
   */
  async publishStale(olderThanMs: number, limit: number): Promise<number> {
    const before = new Date(this.clock.now().getTime() - olderThanMs);
    const stale = await this.outboxes.staleOutbox(before, limit);
    await this.publish(stale);
    const staleEntries = await this.outboxes.staleEntries(before, limit);
    await this.publishEntries(staleEntries);
    return stale.length + staleEntries.length;
  }

  /**
   * Publishes entries just committed (and any a crash left) to journeys.entries.v1, then marks
   * them: analytics counts entrants (treatment and holdout alike) and attributes goals from them.
   */
  async publishEntries(entries: readonly JourneyEntryV1[]): Promise<void> {
    if (entries.length === 0) return;
    await this.bus.publish(
      JourneyEntriesTopic,
      entries.map((entry) => ({ key: entry.customerId, value: entry })),
    );
    await this.outboxes.markEntriesPublished(
      entries.map((entry) => entry.instanceId),
      this.clock.now(),
    );
  }

  /** Publishes messages just committed to the outbox, then marks them published. */
  async publish(messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.bus.publish(
      MessagesRequestedTopic,
      messages.map((m) => ({ key: m.payload.customerId, value: m.payload })),
    );
    await this.outboxes.markPublished(
      messages.map((m) => m.messageId),
      this.clock.now(),
    );
  }
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
    suppressedReason: effect.suppressedReason,
    milestone: record.milestone,
    offer: definition.offer ?? null,
    customer: record.profile,
  };
}
