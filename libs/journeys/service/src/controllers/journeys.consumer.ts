import { OnMessages, type IncomingMessage } from '@mmp/bus';
import {
  CustomerEventsTopic,
  MessagesEventsTopic,
  MilestonesReachedTopic,
  type CustomerEventV1,
  type MessageEventV1,
  type MilestoneReachedV1,
} from '@mmp/contracts';
import { Controller } from '@nestjs/common';
import { EnterJourneysUsecase } from '../usecases/enter-journeys/enter-journeys.usecase';
import { TrackCustomerEventsUsecase } from '../usecases/track-customer-events/track-customer-events.usecase';
import { RecordSendOutcomesUsecase } from '../usecases/record-send-outcomes/record-send-outcomes.usecase';

@Controller()
export class JourneysConsumer {
  constructor(
    private readonly enter: EnterJourneysUsecase,
    private readonly track: TrackCustomerEventsUsecase,
    private readonly recordOutcomes: RecordSendOutcomesUsecase,
  ) {}

  @OnMessages(MilestonesReachedTopic, 'journeys')
  async onMilestones(batch: readonly IncomingMessage<MilestoneReachedV1>[]): Promise<void> {
    await this.enter.execute(batch.map((message) => message.value));
  }

  @OnMessages(CustomerEventsTopic, 'journeys')
  async onCustomerEvents(batch: readonly IncomingMessage<CustomerEventV1>[]): Promise<void> {
    await this.track.execute(batch.map((message) => message.value));
  }

  @OnMessages(MessagesEventsTopic, 'journeys')
  async onMessageEvents(batch: readonly IncomingMessage<MessageEventV1>[]): Promise<void> {
    await this.recordOutcomes.execute(batch.map((message) => message.value));
  }
}
