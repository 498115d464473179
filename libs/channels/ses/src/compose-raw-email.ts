import type { OutboundMessage } from '@mmp/channel-sdk';
import MailComposer from 'nodemailer/lib/mail-composer';

/** The header that carries the platform's messageId, so receipts and support can find a message. */
export const MESSAGE_ID_HEADER = 'X-Mmp-Message-ID';

/**
 * Builds the raw MIME for SES with nodemailer's MailComposer. Our headers are passed
 * `prepared`, so nodemailer neither encodes nor folds them: a long List-Unsubscribe URL stays
 * on one line, as mail clients that parse RFC 8058 one-click unsubscribe expect (nodemailer
 * #1654: folded headers broke it).
 */
export async function composeRawEmail(message: OutboundMessage, from: string): Promise<Buffer> {
  const headers: Record<string, { prepared: true; value: string }> = {
    [MESSAGE_ID_HEADER]: { prepared: true, value: message.messageId },
  };
  for (const [name, value] of Object.entries(message.headers)) {
    headers[name] = { prepared: true, value: value.replace(/[\r\n]+/g, ' ') };
  }
  const composer = new MailComposer({
    from: message.from ?? from,
    to: [message.to].flat().join(', '),
    subject: message.subject ?? '',
    text: message.text,
    html: message.html,
    headers,
  });
  return composer.compile().build();
}
