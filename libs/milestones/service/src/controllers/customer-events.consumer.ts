import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { CustomerEventsTopic, type CustomerEventV1 } from '@mmp/contracts';
import { Controller } from '@nestjs/common';
import { EvaluateEventsUsecase } from '../usecases/evaluate-events/evaluate-events.usecase';

@Controller()
export class CustomerEventsConsumer {
  constructor(private readonly evaluate: EvaluateEventsUsecase) {}

  @OnMessages(CustomerEventsTopic, 'milestones')
  async handle(batch: readonly IncomingMessage<CustomerEventV1>[]): Promise<void> {
    await this.evaluate.execute(batch.map((message) => message.value));
  }
}
