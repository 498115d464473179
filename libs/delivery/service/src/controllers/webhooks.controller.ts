import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { AppConfig } from '@mmp/config';
import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import {
  ReceiveWebhookUsecase,
  type WebhookAnswer,
} from '../usecases/receive-webhook/receive-webhook.usecase';

/**
 * Provider receipts (SPEC section 6). No bearer key: each is verified its own way (Twilio's
 * signature; SNS messages are matched to messages we sent by their SES message id).
 */
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly receive: ReceiveWebhookUsecase,
    private readonly config: AppConfig,
  ) {}

  /** SNS notifications of SES: delivery, bounce, complaint, and the subscription confirmation. */
  @Post('ses')
  @Route(
    apiRoute({
      method: 'post',
      path: '/v1/webhooks/ses',
      tag: 'webhooks',
      summary: 'SNS bounce and complaint notifications from SES',

      responses: { 200: { description: 'Handled', schema: z.record(z.string(), z.unknown()) } },
    }),
  )
  @HttpCode(200)
  async ses(@Req() req: Request): Promise<WebhookAnswer> {
    return this.receive.execute('email', 'ses', await this.webhookRequest(req));
  }

  /** Twilio status callbacks, verified with X-Twilio-Signature under TWILIO_AUTH_TOKEN. */
  @Post('twilio/status')
  @Route(
    apiRoute({
      method: 'post',
      path: '/v1/webhooks/twilio/status',
      tag: 'webhooks',
      summary: 'Twilio message status callbacks (signed)',

      responses: { 200: { description: 'Handled', schema: z.record(z.string(), z.unknown()) } },
    }),
  )
  @HttpCode(200)
  async twilioStatus(@Req() req: Request): Promise<WebhookAnswer> {
    return this.receive.execute('sms', 'twilio', await this.webhookRequest(req));
  }

  private async webhookRequest(req: Request) {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    return {
      // Providers sign the public URL they were given, not the one behind a proxy.
      url: `${this.config.publicUrl}${req.originalUrl}`,
      headers,
      rawBody: await rawBodyOf(req),
    };
  }
}

/**
 * The body as text. JSON and form bodies were parsed by the platform's body parsers: a form is
 * re-encoded (Twilio signs the sorted fields, not the bytes); SNS posts `text/plain`, which no
 * parser takes, so it is read from the stream.
 */
async function rawBodyOf(req: Request): Promise<string> {
  const body: unknown = req.body;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (typeof body === 'object' && body !== null && Object.keys(body).length > 0) {
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(body)) form.append(key, String(value));
      return form.toString();
    }
    return JSON.stringify(body);
  }
  if (!req.readable) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
