import { apiRoute, Route } from './openapi';
import { z } from 'zod';
import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';

import { ReadinessRegistry } from './readiness';

export type ReadinessAnswer =
  | { status: 'ready'; checks: Record<string, boolean> }
  | { status: 'not_ready'; checks: Record<string, boolean> };

/**
 * Liveness says the process answers at all (restart it otherwise); readiness says whether its
 * dependencies answer (send it no traffic otherwise). Terminus is not used: its answer shape
 * (`info`/`error`/`details`) is not ours and the registry already does the checking.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('live')
  @Route(
    apiRoute({
      method: 'get',
      path: '/health/live',
      tag: 'health',
      summary: 'Liveness',

      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    }),
  )
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Route(
    apiRoute({
      method: 'get',
      path: '/health/ready',
      tag: 'health',
      summary: 'Readiness: 200 only when the database and the bus answer',

      responses: {
        200: {
          description: 'Ready',
          schema: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }),
        },
        503: { description: 'Not ready' },
      },
    }),
  )
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadinessAnswer> {
    const { ready, checks } = await this.readiness.evaluate();
    response.status(ready ? 200 : 503);
    return ready ? { status: 'ready', checks } : { status: 'not_ready', checks };
  }
}
