import { CLOCK, type Clock } from '@mmp/clock';
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { CustomerJourneysQuery, type CustomerJourney } from '../store/customer-journeys.query';

@Controller('v1/customers')
export class CustomerJourneysController {
  constructor(
    private readonly journeys: CustomerJourneysQuery,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Journeys the customer entered, where each stands, why it ended, and how its goal stands. */
  @Get(':customerId/journeys')
  async list(@Param('customerId') customerId: string): Promise<CustomerJourney[]> {
    return this.journeys.instancesOf(customerId, this.clock.now());
  }
}
