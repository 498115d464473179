import { defineChannelPlugin, type ErrorClassification } from '@mmp/channel-sdk';
import twilio, { RestException } from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import { z } from 'zod';
import { parseTwilioWebhook } from './twilio-receipts';

/** Settings, as delivery passes them from SMS_FROM and TWILIO_*. */
export const TwilioSettings = z.object({
  from: z.string().regex(/^(\+[1-9]\d{6,14}|MG[0-9a-f]{32}|[A-Za-z0-9 ]{1,11})$/, {
    error: 'SMS_FROM must be an E.164 number, a Messaging Service SID or an alphanumeric sender id',
  }),
  twilioAccountSid: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/, 'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits'),
  twilioAuthToken: z.string().min(8, 'TWILIO_AUTH_TOKEN must be set'),
  twilioApiBase: z.url({ error: 'TWILIO_API_BASE must be a URL' }).optional(),
  /** The platform's public base URL: status callbacks go to PUBLIC_URL/v1/webhooks/twilio/status. */
  publicUrl: z.url().optional(),
});
export type TwilioSettings = z.infer<typeof TwilioSettings>;

const TWILIO_ORIGIN = /^https:\/\/[a-z0-9.-]*twilio\.com/;

/**
 * The twilio SDK's own HTTP client, with every `https://*.twilio.com` URL rewritten to
 * TWILIO_API_BASE (a regional endpoint, a proxy, the test fake).
 */
export class RebasedRequestClient extends RequestClient {
  constructor(private readonly apiBase: string) {
    super({ keepAlive: true });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: opts.uri.replace(TWILIO_ORIGIN, this.apiBase.replace(/\/+$/, '')) });
  }
}

/** SMS through Twilio's Messages API. Status callbacks come back to /v1/webhooks/twilio/status. */
export const twilioPlugin = defineChannelPlugin({
  name: 'twilio',
  channel: 'sms',
  settingsSchema: TwilioSettings,
  idempotency: 'none',
  defaultRateLimit: { perSecond: 10, burst: 10 },
  create(settings) {
    const client = twilio(settings.twilioAccountSid, settings.twilioAuthToken, {
      autoRetry: false,
      ...(settings.twilioApiBase ? { httpClient: new RebasedRequestClient(settings.twilioApiBase) } : {}),
    });
    const statusCallback = settings.publicUrl
      ? `${settings.publicUrl.replace(/\/+$/, '')}/v1/webhooks/twilio/status`
      : undefined;
    const sender = settings.from.startsWith('MG')
      ? { messagingServiceSid: settings.from }
      : { from: settings.from };
    return {
      async send(message) {
        const to = [message.to].flat()[0];
        if (!to) throw new Error('an SMS needs a phone number');
        const created = await client.messages.create({
          to,
          ...sender,
          body: message.body ?? message.text ?? '',
          ...(statusCallback ? { statusCallback } : {}),
        });
        return { providerMessageId: created.sid };
      },
      classifyError: classifyTwilioError,
      parseWebhook: (request) => parseTwilioWebhook(request, settings.twilioAuthToken),
    };
  },
});

export function classifyTwilioError(error: unknown): ErrorClassification {
  if (error instanceof RestException) {
    if (error.code === 20429 || error.status === 429 || error.status >= 500)
      return { kind: 'retryable', reason: `twilio_${error.code ?? error.status}` };
    return { kind: 'permanent', reason: `twilio_${error.code ?? error.status}` };
  }
  if (error instanceof Error) {
    const code: unknown = Reflect.get(error, 'code');
    if (typeof code === 'string' && /^(ECONNREFUSED|EAI_AGAIN|ENOTFOUND)$/.test(code))
      return { kind: 'retryable', reason: `network_${code}` };
  }
  return { kind: 'permanent', reason: 'twilio_error' };
}
