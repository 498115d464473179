import { apiRoute, Route } from './openapi';
import { z } from 'zod';
import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/** Prometheus scrapes this; it is outside /v1 so that a scraper needs no API key. */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Route(
    apiRoute({
      method: 'get',
      path: '/metrics',
      tag: 'health',
      summary: 'Prometheus metrics',

      responses: {
        200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' },
      },
    }),
  )
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
