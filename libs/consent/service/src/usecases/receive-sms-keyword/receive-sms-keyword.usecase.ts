import { CLOCK, type Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { smsKeywordIntent, verifyTwilioSignature } from '@mmp/consent-domain';
import { AppError } from '@mmp/errors';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConsentStore } from '../../store/consent.store';
import { RecordConsentChangesUsecase } from '../record-consent-changes/record-consent-changes.usecase';

export interface InboundSms {
  /** The public URL Twilio posted to (Twilio signs it, not the one behind a proxy). */
  url: string;
  signature: string | undefined;
  fields: Readonly<Record<string, string>>;
}

export interface KeywordOutcome {
  keyword: 'opted_out' | 'opted_in' | null;
  /** The customers whose SMS consent changed. */
  changed: string[];
}

/**
 * Inbound SMS (`POST /v1/webhooks/twilio/inbound`): verified with X-Twilio-Signature under
 * TWILIO_AUTH_TOKEN, then a keyword reply changes the SMS consent of every customer whose
 * profile carries the sender's number (consent.contacts, kept from customer.events.v1).
 */
@Injectable()
export class ReceiveSmsKeywordUsecase {
  private readonly logger = new Logger('SmsKeywords');

  constructor(
    private readonly config: AppConfig,
    private readonly store: ConsentStore,
    private readonly recordChanges: RecordConsentChangesUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(sms: InboundSms): Promise<KeywordOutcome> {
    const authToken = this.config.channels.sms.twilioAuthToken;
    if (!authToken)
      throw new AppError('unauthorized', 'TWILIO_AUTH_TOKEN is not set: inbound SMS cannot be verified');
    if (!sms.signature || !verifyTwilioSignature(authToken, sms.signature, sms.url, sms.fields))
      throw new AppError('unauthorized', 'X-Twilio-Signature does not match');
    const from = sms.fields['From'];
    const sid = sms.fields['MessageSid'] ?? sms.fields['SmsSid'];
    const intent = smsKeywordIntent(sms.fields['Body'] ?? '');
    if (!intent || !from || !sid) return { keyword: intent ?? null, changed: [] };
    const customers = await this.store.customersWithPhone(from);
    if (customers.length === 0) {
      this.logger.warn(
        `SMS keyword from a number no customer profile carries (message ${sid}): nothing changed`,
      );
      return { keyword: intent, changed: [] };
    }
    const changedAt = this.clock.now().toISOString();
    const keyword = (sms.fields['Body'] ?? '').trim().toUpperCase();
    await this.recordChanges.execute(
      customers.map((customerId) => ({
        schemaVersion: 1,
        // Twilio retries a webhook it got no answer to: the message id makes that a repeat.
        changeId: `sms:${sid}:${customerId}`,
        customerId,
        channel: 'sms',
        status: intent,
        source: `sms_keyword:${keyword}`,
        actor: 'customer',
        changedAt,
        address: null,
        ip: null,
        userAgent: null,
        messageId: null,
      })),
      { onlyIfChanged: true },
    );
    return { keyword: intent, changed: customers };
  }
}
