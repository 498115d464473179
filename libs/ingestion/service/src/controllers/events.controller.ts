import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { RetailEventV1, validate, type ValidationIssue } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { withIngestRefusals } from './ingest-refusals';
import { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';

export const MAX_BATCH_SIZE = 1000;

export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: { index: number; eventId: string | null; errors: ValidationIssue[] }[];
}

/** `POST /v1/events`: one event, or `{ "batch": [...] }` of at most 1000 (SPEC section 4). */
@Controller('v1/events')
export class EventsController {
  constructor(private readonly ingest: IngestEventsUsecase) {}

  @Post()
  @Route(
    apiRoute({
      method: 'post',
      path: '/v1/events',
      tag: 'events',
      summary:
        'Ingest one event or a batch of at most 1000; nothing valid is lost because a neighbour was invalid',
      body: z.union([RetailEventV1, z.object({ batch: z.array(RetailEventV1).max(1000) })]),
      responses: {
        202: {
          description: 'Accepted, duplicates and rejected (with index, eventId and errors)',
          schema: z.object({
            accepted: z.number().int(),
            duplicates: z.number().int(),
            rejected: z.array(
              z.object({
                index: z.number().int(),
                eventId: z.string().nullable(),
                errors: z.array(z.object({ path: z.string(), message: z.string() })),
              }),
            ),
          }),
        },
      },
    }),
  )
  @HttpCode(202)
  async post(@Body() body: unknown): Promise<IngestResponse> {
    const items = itemsOf(body);
    const valid: { index: number; event: RetailEventV1 }[] = [];
    const rejected: IngestResponse['rejected'] = [];
    items.forEach((item, index) => {
      const result = validate(RetailEventV1, item);
      if (result.ok) valid.push({ index, event: result.value });
      else rejected.push({ index, eventId: eventIdOf(item), errors: result.issues });
    });
    if (!isBatch(body) && rejected[0]) {
      throw AppError.validation('the event is invalid', rejected[0].errors);
    }
    // Nothing valid is lost because a neighbour was invalid: the valid ones are ingested.
    const outcome =
      valid.length > 0
        ? await this.ingest.execute(valid.map((v) => v.event))
        : { accepted: 0, duplicates: 0, rejected: [] };
    const all = withIngestRefusals(rejected, valid, outcome, (index, eventId, errors) => ({
      index,
      eventId,
      errors,
    }));
    if (!isBatch(body) && all[0]) throw AppError.validation('the event is invalid', all[0].errors);
    return { accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: all };
  }
}

function isBatch(body: unknown): body is { batch: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'batch' in body;
}

function itemsOf(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('bad_request', 'the body must be one event object or { "batch": [ ... ] }');
  }
  if (!isBatch(body)) return [body];
  const batch = body.batch;
  if (!Array.isArray(batch)) {
    throw AppError.validation('batch must be an array of events', [
      { path: 'batch', message: 'must be an array' },
    ]);
  }
  if (batch.length === 0 || batch.length > MAX_BATCH_SIZE) {
    throw AppError.validation(`batch must hold 1 to ${MAX_BATCH_SIZE} events`, [
      { path: 'batch', message: `must hold 1 to ${MAX_BATCH_SIZE} events, got ${batch.length}` },
    ]);
  }
  return batch;
}

function eventIdOf(item: unknown): string | null {
  if (typeof item === 'object' && item !== null && 'eventId' in item && typeof item.eventId === 'string') {
    return item.eventId.slice(0, 128);
  }
  return null;
}
