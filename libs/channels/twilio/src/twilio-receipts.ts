import type { MessageReceipt, WebhookOutcome, WebhookRequest } from '@mmp/channel-sdk';
import { validateRequest } from 'twilio';

/**
 * Twilio status callbacks (`POST /v1/webhooks/twilio/status`), verified with X-Twilio-Signature
 * under TWILIO_AUTH_TOKEN against the public URL they were posted to. Intermediate statuses
 * (queued, sending, sent) change nothing; delivered, undelivered and failed are receipts.
 */
export function parseTwilioWebhook(request: WebhookRequest, authToken: string): WebhookOutcome {
  const signature = request.headers['x-twilio-signature'];
  if (!signature) return { kind: 'rejected', reason: 'no X-Twilio-Signature' };
  const fields = Object.fromEntries(new URLSearchParams(request.rawBody));
  if (!validateRequest(authToken, signature, request.url, fields))
    return { kind: 'rejected', reason: 'bad X-Twilio-Signature' };
  const sid = fields['MessageSid'] ?? fields['SmsSid'];
  const status = fields['MessageStatus'] ?? fields['SmsStatus'];
  if (!sid || !status) return { kind: 'rejected', reason: 'not a status callback' };
  const receipt = (s: MessageReceipt['status'], reason: string | null): MessageReceipt => ({
    providerMessageId: sid,
    status: s,
    reason,
    address: fields['To'] ?? null,
    occurredAt: null,
  });
  switch (status) {
    case 'delivered':
      return { kind: 'receipts', receipts: [receipt('delivered', null)] };
    case 'undelivered':
    case 'failed':
      return {
        kind: 'receipts',
        receipts: [
          receipt('failed', fields['ErrorCode'] ? `twilio_${fields['ErrorCode']}` : `twilio_${status}`),
        ],
      };
    default:
      return { kind: 'receipts', receipts: [] };
  }
}
