import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { AppError } from '@mmp/errors';
import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { confirmPage, invalidLinkPage, PAGE_HEADERS, unsubscribedPage } from '../pages/unsubscribe-page';
import { UnsubscribeUsecase } from '../usecases/unsubscribe/unsubscribe.usecase';
import { clientInfoOf } from './client-info.util';

/**
 * The unsubscribe link of every email (`List-Unsubscribe: <PUBLIC_URL/u/{token}>`). No bearer
 * key and no cookie: the signed token is the authority.
 * - `POST` is RFC 8058's one-click unsubscribe (`List-Unsubscribe=One-Click`), and also what
 *   the confirm button posts: it opts out at once and answers 200.
 * - `GET` only shows the confirm page: mail scanners follow links, and must not unsubscribe anyone.
 */
@Controller('u')
export class UnsubscribeController {
  constructor(private readonly unsubscribe: UnsubscribeUsecase) {}

  @Get(':token')
  @Route(
    apiRoute({
      method: 'get',
      path: '/u/{token}',
      tag: 'consent',
      summary: 'The unsubscribe page with a confirm button',
      params: z.object({ token: z.string() }),
      responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
    }),
  )
  show(@Param('token') token: string, @Res() res: Response): void {
    res.set(PAGE_HEADERS);
    try {
      const target = this.unsubscribe.check(token);
      res.status(200).send(confirmPage(target.channel));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.status(400).send(invalidLinkPage());
    }
  }

  @Post(':token')
  @Route(
    apiRoute({
      method: 'post',
      path: '/u/{token}',
      tag: 'consent',
      summary: 'One-click unsubscribe (RFC 8058): opts out at once; a tampered token is 400',
      params: z.object({ token: z.string() }),
      responses: { 200: { description: 'Opted out', schema: z.string(), contentType: 'text/html' } },
    }),
  )
  @HttpCode(200)
  async confirm(
    @Param('token') token: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string | { channel: string; status: 'opted_out' }> {
    const body: unknown = req.body;
    const fromPage = typeof body === 'object' && body !== null && 'confirm' in body;
    const target = await this.unsubscribe.execute(
      token,
      fromPage ? 'unsubscribe_page' : 'list_unsubscribe_one_click',
      clientInfoOf(req),
    );
    // A person who pressed the button gets a page; a mail client's one-click POST gets JSON.
    if (req.accepts(['json', 'html']) === 'html') {
      res.set(PAGE_HEADERS);
      return unsubscribedPage(target.channel);
    }
    return { channel: target.channel, status: 'opted_out' };
  }
}
