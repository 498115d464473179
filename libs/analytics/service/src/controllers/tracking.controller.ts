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
