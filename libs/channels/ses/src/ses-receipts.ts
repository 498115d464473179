import type { MessageReceipt, WebhookOutcome, WebhookRequest } from '@mmp/channel-sdk';
import { z } from 'zod';

/**
 * SES notifications arrive through SNS (`POST /v1/webhooks/ses`): an SNS envelope whose
 * `Message` is the SES notification (delivery, bounce, complaint), as SES sends with either
 * notification topics (`notificationType`) or event publishing (`eventType`).
 */
const SnsEnvelope = z.discriminatedUnion('Type', [
  z.object({
    Type: z.literal('Notification'),
    MessageId: z.string(),
    TopicArn: z.string(),
    Message: z.string(),
  }),
  z.object({ Type: z.literal('SubscriptionConfirmation'), TopicArn: z.string(), SubscribeURL: z.url() }),
  z.object({ Type: z.literal('UnsubscribeConfirmation'), TopicArn: z.string() }),
]);

const Recipients = z.array(z.object({ emailAddress: z.string() })).default([]);

const SesNotification = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail: z.object({ messageId: z.string() }),
  delivery: z
    .object({ timestamp: z.string().optional(), recipients: z.array(z.string()).default([]) })
    .optional(),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: Recipients,
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z.object({ complainedRecipients: Recipients, timestamp: z.string().optional() }).optional(),
});

export function parseSesWebhook(request: WebhookRequest): WebhookOutcome {
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody);
  } catch {
    return { kind: 'rejected', reason: 'the body is not JSON' };
  }
  const envelope = SnsEnvelope.safeParse(json);
  if (!envelope.success) return { kind: 'rejected', reason: 'not an SNS message' };
  switch (envelope.data.Type) {
    case 'SubscriptionConfirmation':
      return { kind: 'subscription', confirmUrl: envelope.data.SubscribeURL, topic: envelope.data.TopicArn };
    case 'UnsubscribeConfirmation':
      return { kind: 'receipts', receipts: [] };
    case 'Notification':
      return receiptsOf(envelope.data.Message);
  }
}

function receiptsOf(message: string): WebhookOutcome {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return { kind: 'rejected', reason: 'the SNS Message is not JSON' };
  }
  const parsed = SesNotification.safeParse(json);
  if (!parsed.success) return { kind: 'rejected', reason: 'not an SES notification' };
  const n = parsed.data;
  const type = n.notificationType ?? n.eventType ?? 'Unknown';
  const providerMessageId = n.mail.messageId;
  const receipt = (
    status: MessageReceipt['status'],
    reason: string | null,
    address: string | null,
    occurredAt: string | undefined,
  ): MessageReceipt => ({ providerMessageId, status, reason, address, occurredAt: occurredAt ?? null });
  switch (type) {
    case 'Delivery':
      return {
        kind: 'receipts',
        receipts: [receipt('delivered', null, n.delivery?.recipients[0] ?? null, n.delivery?.timestamp)],
      };
    case 'Bounce': {
      const bounce = n.bounce;
      if (!bounce) return { kind: 'rejected', reason: 'a Bounce without its bounce' };
      const reason = `${bounce.bounceType === 'Permanent' ? 'permanent' : 'transient'}_bounce${bounce.bounceSubType ? `:${bounce.bounceSubType}` : ''}`;
      const recipients =
        bounce.bouncedRecipients.length > 0 ? bounce.bouncedRecipients : [{ emailAddress: '' }];
      return {
        kind: 'receipts',
        receipts: recipients.map((r) => receipt('bounced', reason, r.emailAddress || null, bounce.timestamp)),
      };
    }
    case 'Complaint': {
      const complaint = n.complaint;
      const recipients = complaint?.complainedRecipients ?? [];
      return {
        kind: 'receipts',
        receipts: (recipients.length > 0 ? recipients : [{ emailAddress: '' }]).map((r) =>
          receipt('complained', 'complaint', r.emailAddress || null, complaint?.timestamp),
        ),
      };
    }
    default:
      // Send, Open, Click... events of other kinds: nothing for delivery to record.
      return { kind: 'receipts', receipts: [] };
  }
}
