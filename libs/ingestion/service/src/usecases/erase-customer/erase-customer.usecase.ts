import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import {
  CUSTOMER_ERASED_EVENT_TYPE,
  CustomerEventsTopic,
  erasureEventId,
  type CustomerEventV1,
} from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { ErasureStore } from '../../store/erasure.store';

/**
 * `DELETE /v1/customers/{id}`: erases ingestion's part (traits, event properties, identity
 * links; aggregates stay) and then publishes the erasure event every other service acts on
 * (contracts: CUSTOMER_ERASED_EVENT_TYPE). The publish comes after the commit and is repeated
 * by every DELETE, so a request retried after a failed publish finishes the job.
 */
@Injectable()
export class EraseCustomerUsecase {
  constructor(
    private readonly erasure: ErasureStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(customerId: string): Promise<void> {
    const now = this.clock.now();
    const profile = await this.erasure.erase(customerId, now);
    const erasure: CustomerEventV1 = {
      schemaVersion: 1,
      eventId: erasureEventId(customerId),
      type: CUSTOMER_ERASED_EVENT_TYPE,
      occurredAt: now.toISOString(),
      receivedAt: now.toISOString(),
      customerId,
      anonymousId: null,
      properties: {},
      triggerable: false,
      profile,
    };
    await this.bus.publish(CustomerEventsTopic, [{ key: customerId, value: erasure }]);
  }
}
