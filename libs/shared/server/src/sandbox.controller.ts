import { apiRoute, Route } from './openapi';
import { SandboxClock } from '@mmp/clock';
import { AppError } from '@mmp/errors';
import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { SandboxClockSync } from './sandbox-clock-sync';

const ISO_DATE_TIME = z.iso.datetime({ offset: true });
const EXAMPLE = '2025-01-31T09:00:00Z';

function requestedTime(body: unknown): Date {
  const now: unknown = typeof body === 'object' && body !== null && 'now' in body ? body.now : undefined;
  if (now === undefined) {
    throw AppError.validation('now is required', [
      { path: 'now', message: `is required: an ISO 8601 date-time such as ${EXAMPLE}` },
    ]);
  }
  if (typeof now !== 'string' || !ISO_DATE_TIME.safeParse(now).success) {
    throw AppError.validation('now is not a valid date-time', [
      { path: 'now', message: `must be an ISO 8601 date-time with a zone, such as ${EXAMPLE}` },
    ]);
  }
  return new Date(now);
}

/**
 * Moves the platform's clock forward so that a tester sees what happens days later within
 * seconds (SPEC section 8). Registered only when SANDBOX is on: otherwise these routes are 404.
 * A move reaches every process over the bus (SandboxClockSync); GET tells this process's clock,
 * so a tool can wait until each process it talks to has caught up.
 */
@Controller('v1/sandbox/clock')
export class SandboxController {
  constructor(
    private readonly clock: SandboxClock,
    private readonly sync: SandboxClockSync,
  ) {}

  @Get()
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/sandbox/clock',
      tag: 'sandbox',
      summary: 'The sandbox clock of this process (only with SANDBOX=true, else 404)',

      responses: { 200: { description: 'Now', schema: z.object({ now: z.string() }) } },
    }),
  )
  current(): { now: string } {
    return { now: this.clock.now().toISOString() };
  }

  /** Answers once this process has moved and the move is published for the others. */
  @Post()
  @Route(
    apiRoute({
      method: 'post',
      path: '/v1/sandbox/clock',
      tag: 'sandbox',
      summary: 'Moves the sandbox clock forward (never back: 409); only with SANDBOX=true',
      body: z.object({ now: ISO_DATE_TIME }),
      responses: {
        200: { description: 'Moved', schema: z.object({ now: z.string() }) },
        409: { description: 'Earlier than now' },
      },
    }),
  )
  @HttpCode(200)
  async move(@Body() body: unknown): Promise<{ now: string }> {
    return { now: (await this.sync.moveTo(requestedTime(body))).toISOString() };
  }
}
