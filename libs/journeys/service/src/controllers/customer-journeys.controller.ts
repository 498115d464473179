import { Controller, Get, Param } from '@nestjs/common';
import { JourneyStore, type CustomerJourney } from '../store/journey.store';

@Controller('v1/customers')
export class CustomerJourneysController {
  constructor(private readonly store: JourneyStore) {}

  /** Journeys the customer entered, where each stands and why it ended. */
  @Get(':customerId/journeys')
  async list(@Param('customerId') customerId: string): Promise<CustomerJourney[]> {
    return this.store.instancesOf(customerId);
  }
}
