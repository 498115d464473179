import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { Controller, Get, Param } from '@nestjs/common';
import { OccurrenceStore, type ReachedMilestone } from '../store/occurrence.store';

@Controller('v1/customers')
export class CustomerMilestonesController {
  constructor(private readonly occurrences: OccurrenceStore) {}

  /** Reached milestones, newest first (SPEC section 6). */
  @Get(':customerId/milestones')
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/customers/{customerId}/milestones',
      tag: 'customers',
      summary: 'Reached milestones, newest first',
      params: z.object({ customerId: z.string().min(1) }),
      responses: {
        200: {
          description: 'The milestones',
          schema: z.array(z.object({ key: z.string(), occurrence: z.string(), reachedAt: z.string() })),
        },
      },
    }),
  )
  async list(@Param('customerId') customerId: string): Promise<ReachedMilestone[]> {
    return this.occurrences.reachedBy(customerId);
  }
}
