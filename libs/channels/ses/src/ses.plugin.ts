import { SendRawEmailCommand, SESClient, SESServiceException } from '@aws-sdk/client-ses';
import { defineChannelPlugin, type ErrorClassification } from '@mmp/channel-sdk';
import { z } from 'zod';
import { composeRawEmail, MESSAGE_ID_HEADER } from './compose-raw-email';
import { parseSesWebhook } from './ses-receipts';

/** Settings, as delivery passes them from EMAIL_FROM, SES_REGION and SES_ENDPOINT. */
export const SesSettings = z.object({
  from: z.string().min(3, 'EMAIL_FROM must be an address such as "Shop <shop@example.com>"'),
  sesRegion: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'SES_REGION must be an AWS region such as us-east-1'),
  sesEndpoint: z.url({ error: 'SES_ENDPOINT must be a URL' }).optional(),
  /** Static credentials (tests, the bench); otherwise the AWS SDK's default chain. */
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }).optional(),
});
export type SesSettings = z.infer<typeof SesSettings>;

/** SES error codes worth retrying: throttling and SES-side trouble. */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
]);

/** SES tag values allow letters, digits, `_`, `-` and `.` only. */
const tagValue = (value: string): string => value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 256);

/**
 * Email through Amazon SES (SendRawEmail), so List-Unsubscribe and List-Unsubscribe-Post go
 * out exactly as built. The messageId travels as the `X-Mmp-Message-ID` header (as nodemailer spells it) and the
 * `mmp_message_id` tag, which SES repeats in its SNS notifications.
 */
export const sesPlugin = defineChannelPlugin({
  name: 'ses',
  channel: 'email',
  settingsSchema: SesSettings,
  idempotency: 'carried',
  defaultRateLimit: { perSecond: 14, burst: 14 },
  create(settings) {
    const client = new SESClient({
      region: settings.sesRegion,
      ...(settings.sesEndpoint ? { endpoint: settings.sesEndpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Delivery retries with its own backoff on the injectable clock; the SDK must not retry too.
      maxAttempts: 1,
    });
    return {
      async send(message) {
        const raw = await composeRawEmail(message, settings.from);
        const result = await client.send(
          new SendRawEmailCommand({
            RawMessage: { Data: raw },
            Tags: [{ Name: 'mmp_message_id', Value: tagValue(message.messageId) }],
          }),
        );
        if (!result.MessageId) throw new Error('SES answered without a MessageId');
        return { providerMessageId: result.MessageId };
      },
      classifyError: classifySesError,
      parseWebhook: parseSesWebhook,
      async close() {
        client.destroy();
      },
    };
  },
});

export function classifySesError(error: unknown): ErrorClassification {
  if (error instanceof SESServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    if (RETRYABLE_CODES.has(error.name) || status === 429 || status >= 500)
      return { kind: 'retryable', reason: `ses_${error.name}` };
    return { kind: 'permanent', reason: `ses_${error.name}` };
  }
  if (error instanceof Error) {
    // Only a connection that was never made is safe to retry: after a reset or a timeout SES may
    // have taken the message, and a second email is worse than a missing one.
    const code: unknown = Reflect.get(error, 'code');
    if (typeof code === 'string' && /^(ECONNREFUSED|EAI_AGAIN|ENOTFOUND)$/.test(code))
      return { kind: 'retryable', reason: `network_${code}` };
    return { kind: 'permanent', reason: 'ses_error' };
  }
  return { kind: 'permanent', reason: 'ses_error' };
}

export { MESSAGE_ID_HEADER };
