import { Controller, Get, Param } from '@nestjs/common';
import { OccurrenceStore, type ReachedMilestone } from '../store/occurrence.store';

@Controller('v1/customers')
export class CustomerMilestonesController {
  constructor(private readonly occurrences: OccurrenceStore) {}

  /** Reached milestones, newest first (SPEC section 6). */
  @Get(':customerId/milestones')
  async list(@Param('customerId') customerId: string): Promise<ReachedMilestone[]> {
    return this.occurrences.reachedBy(customerId);
  }
}
