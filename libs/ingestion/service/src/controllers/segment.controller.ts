import { CLOCK, type Clock } from '@mmp/clock';
import type { RetailEventV1 } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import {
  isSegmentCallType,
  jsonByteLength,
  mapSegmentCall,
  segmentBatchCalls,
  SEGMENT_MAX_CALL_BYTES,
  type SegmentCallType,
} from '@mmp/ingestion-domain';
import { Route } from '@mmp/server';
import type { z } from 'zod';
import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';
import { withIngestRefusals } from './ingest-refusals';
import { SegmentWriteKeyGuard } from './segment-write-key.guard';
import { SegmentAnswer, segmentBatchRoute, segmentCallRoute } from './segment.routes';

export type SegmentResponse = z.infer<typeof SegmentAnswer>;

/**
 * The Segment HTTP Tracking API (`/v1/segment/identify`, `track`, `alias`, `page`, `screen`,
 * `group`, `batch`): each call is mapped to our event (`mapSegmentCall`) and goes through the
 * one ingest path of `POST /v1/events`, with its validation, idempotency and identity merge.
 */
@Controller('v1/segment')
@UseGuards(SegmentWriteKeyGuard)
export class SegmentController {
  constructor(
    private readonly ingest: IngestEventsUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('batch')
  @Route(segmentBatchRoute)
  @HttpCode(200)
  async batch(@Body() body: unknown): Promise<SegmentResponse> {
    const read = segmentBatchCalls(body);
    if (!read.ok) {
      if (read.tooLarge) throw new AppError('payload_too_large', read.message, read.issues);
      throw AppError.validation(read.message, read.issues);
    }
    return this.ingestCalls(read.calls, undefined);
  }

  @Post(':call')
  @Route(segmentCallRoute)
  @HttpCode(200)
  async call(@Param('call') call: string, @Body() body: unknown): Promise<SegmentResponse> {
    if (!isSegmentCallType(call)) {
      throw AppError.notFound(
        `no Segment call "${call}": POST /v1/segment/identify, track, alias, page, screen, group or batch`,
      );
    }
    const size = jsonByteLength(body);
    if (size > SEGMENT_MAX_CALL_BYTES) {
      throw new AppError('payload_too_large', `a call must be at most 32 KB as JSON (got ${size} bytes)`);
    }
    const response = await this.ingestCalls([body], call);
    const refusal = response.rejected[0];
    if (refusal) throw AppError.validation(`the ${call} call is invalid`, refusal.errors);
    return response;
  }

  private async ingestCalls(
    calls: readonly unknown[],
    endpointType: SegmentCallType | undefined,
  ): Promise<SegmentResponse> {
    const receivedAt = this.clock.now();
    const valid: { index: number; event: RetailEventV1 }[] = [];
    const rejected: SegmentResponse['rejected'] = [];
    calls.forEach((call, index) => {
      const mapping = mapSegmentCall(call, endpointType, receivedAt);
      if (mapping.ok) valid.push({ index, event: mapping.event });
      else rejected.push({ index, messageId: messageIdOf(call), errors: mapping.issues });
    });
    // Nothing valid is lost because a neighbour was refused: the valid ones are ingested.
    const outcome =
      valid.length > 0
        ? await this.ingest.execute(valid.map((v) => v.event))
        : { accepted: 0, duplicates: 0, rejected: [] };
    return {
      success: true,
      accepted: outcome.accepted,
      duplicates: outcome.duplicates,
      rejected: withIngestRefusals(rejected, valid, outcome, (index, messageId, errors) => ({
        index,
        messageId,
        errors,
      })),
    };
  }
}

function messageIdOf(call: unknown): string | null {
  if (
    typeof call === 'object' &&
    call !== null &&
    'messageId' in call &&
    typeof call.messageId === 'string'
  ) {
    return call.messageId.slice(0, 128);
  }
  return null;
}
