import { attributeConversions, orderFiguresOf } from '@mmp/analytics-domain';
import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { ConversionsTopic, isErasureEvent, type CustomerEventV1, type JourneyEntryV1 } from '@mmp/contracts';
import { withTransaction, type SqlExecutor } from '@mmp/persistence';
import { Inject, Injectable } from '@nestjs/common';
import { AttributionStore } from '../../store/attribution.store';
import { MessageFactsStore } from '../../store/message-facts.store';

/**
 * Records entries and customer activity, then decides the conversions of the customers they
 * concern. Whichever arrives last (the entry or its goal event: the two topics are not ordered
 * against each other) completes the conversion. Each step is one statement for the whole batch.
 */
@Injectable()
export class AttributeConversionsUseCase {
  constructor(
    private readonly store: AttributionStore,
    private readonly facts: MessageFactsStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onEntries(entries: readonly JourneyEntryV1[]): Promise<void> {
    await this.attribute(
      entries.map((entry) => entry.customerId),
      (executor) => this.store.recordEntries(entries, executor),
    );
  }

  async onCustomerEvents(events: readonly CustomerEventV1[]): Promise<void> {
    const erased = events.filter(isErasureEvent).map((event) => event.customerId);
    const activity = events
      .filter((event) => !isErasureEvent(event))
      .map((event) => ({
        eventId: event.eventId,
        customerId: event.customerId,
        type: event.type,
        occurredAt: new Date(event.occurredAt),
        ...orderFiguresOf(event.type, event.properties),
      }));
    await this.attribute(
      activity.map((a) => a.customerId),
      (executor) => this.store.recordActivity(activity, executor),
    );
    await this.facts.eraseCustomer(erased);
  }

  private async attribute(
    customerIds: readonly string[],
    record: (executor: SqlExecutor) => Promise<void>,
  ): Promise<void> {
    const customers = [...new Set(customerIds)];
    if (customers.length === 0) return;
    await withTransaction(this.store.database, async (executor) => {
      await this.store.lockCustomers(customers, executor);
      await record(executor);
      const pending = await this.store.unconvertedEntries(customers, executor);
      const activity = await this.store.goalActivity(pending, executor);
      await this.store.recordConversions(attributeConversions(pending, activity), executor);
    });
    // After the commit; a conversion whose publish failed stays unmarked and goes out on redelivery.
    const unpublished = await this.store.unpublishedConversions(customers);
    if (unpublished.length === 0) return;
    await this.bus.publish(
      ConversionsTopic,
      unpublished.map((conversion) => ({ key: conversion.customerId, value: conversion })),
    );
    await this.store.markPublished(
      unpublished.map((conversion) => conversion.conversionId),
      this.clock.now(),
    );
  }
}
