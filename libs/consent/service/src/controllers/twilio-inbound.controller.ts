import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { AppConfig } from '@mmp/config';
import { Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ReceiveSmsKeywordUsecase } from '../usecases/receive-sms-keyword/receive-sms-keyword.usecase';

/** An empty TwiML answer: Twilio sends its own confirmation of STOP and START, we add nothing. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** Twilio's incoming-message webhook: STOP, START and the other keywords. No bearer key; signed. */
@Controller('v1/webhooks/twilio')
export class TwilioInboundController {
  constructor(
    private readonly receive: ReceiveSmsKeywordUsecase,
    private readonly config: AppConfig,
  ) {}

  @Post('inbound')
  @Route(
    apiRoute({
      method: 'post',
      path: '/v1/webhooks/twilio/inbound',
      tag: 'webhooks',
      summary: 'Inbound SMS (signed by Twilio): STOP/UNSUBSCRIBE opt out of SMS, START opts back in',

      responses: { 200: { description: 'TwiML', schema: z.string(), contentType: 'text/xml' } },
    }),
  )
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async inbound(@Req() req: Request): Promise<string> {
    await this.receive.execute({
      url: `${this.config.publicUrl}${req.originalUrl}`,
      signature: req.get('x-twilio-signature'),
      fields: formFieldsOf(req.body),
    });
    return EMPTY_TWIML;
  }
}

/** Twilio posts a form; the platform's urlencoded parser made it an object of strings. */
function formFieldsOf(body: unknown): Record<string, string> {
  if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body));
  const fields: Record<string, string> = {};
  if (typeof body === 'object' && body !== null)
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
  return fields;
}
