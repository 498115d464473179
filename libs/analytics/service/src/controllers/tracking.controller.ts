import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { RecordTouchUseCase } from '../usecases/record-touch/record-touch.usecase';

/** A transparent 1x1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** The tracking links delivery puts in emails (SPEC section 7); no bearer key, the token is the credential. */
@Controller('t')
export class TrackingController {
  constructor(private readonly recordTouch: RecordTouchUseCase) {}

  @Get('o/:token')
  @Route(
    apiRoute({
      method: 'get',
      path: '/t/o/{token}',
      tag: 'tracking',
      summary: 'Open pixel (signed token)',
      params: z.object({ token: z.string() }),
      responses: { 200: { description: 'A 1x1 GIF', schema: z.string(), contentType: 'image/gif' } },
    }),
  )
  async open(
    @Param('token') token: string,
    @Headers('user-agent') userAgent: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await this.recordTouch.execute('open', token, userAgent ?? null);
    // Never cached, or a second open by the same reader would not reach us.
    response
      .status(200)
      .set({ 'Content-Type': 'image/gif', 'Cache-Control': 'no-store, private' })
      .send(PIXEL);
  }

  @Get('c/:token')
  @Route(
    apiRoute({
      method: 'get',
      path: '/t/c/{token}',
      tag: 'tracking',
      summary: 'Tracked click: 302 to the original link (signed token, no open redirect)',
      params: z.object({ token: z.string() }),
      responses: { 302: { description: 'To the original link' } },
    }),
  )
  async click(
    @Param('token') token: string,
    @Headers('user-agent') userAgent: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    const { redirectTo } = await this.recordTouch.execute('click', token, userAgent ?? null);
    if (redirectTo === null) throw new Error('a click always has a destination');
    response.set('Cache-Control', 'no-store, private').redirect(302, redirectTo);
  }
}
