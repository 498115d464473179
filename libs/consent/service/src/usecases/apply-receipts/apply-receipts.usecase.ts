import type { MessageEventV1 } from '@mmp/contracts';
import { receiptConsequence } from '@mmp/consent-domain';
import { Injectable } from '@nestjs/common';
import { ConsentStore, type RecordedChange } from '../../store/consent.store';
import { RecordConsentChangesUsecase } from '../record-consent-changes/record-consent-changes.usecase';

/**
 * Bounces and complaints from messages.events.v1 (SPEC section 6): a permanent bounce puts the
 * address that bounced on the suppression list, a complaint opts the customer out of email, a
 * transient bounce changes nothing. A redelivered event changes nothing more (its change id is
 * the message's, and a change to the status already in force is skipped).
 */
@Injectable()
export class ApplyReceiptsUsecase {
  constructor(
    private readonly store: ConsentStore,
    private readonly recordChanges: RecordConsentChangesUsecase,
  ) {}

  async execute(events: readonly MessageEventV1[]): Promise<void> {
    const relevant = events.filter((e) => e.status === 'bounced' || e.reason === 'complaint');
    if (relevant.length === 0) return;
    const knownEmails = await this.store.emailsOf([
      ...new Set(relevant.filter((e) => e.channel === 'email' && !e.address).map((e) => e.customerId)),
    ]);
    const changes: RecordedChange[] = [];
    for (const event of relevant) {
      const consequence = receiptConsequence(
        event,
        event.channel === 'email' ? knownEmails.get(event.customerId) : undefined,
      );
      if (!consequence) continue;
      const common = {
        schemaVersion: 1 as const,
        customerId: event.customerId,
        channel: consequence.channel,
        status: 'opted_out' as const,
        source: consequence.reason,
        actor: 'provider',
        changedAt: event.occurredAt,
        ip: null,
        userAgent: null,
        messageId: event.messageId,
      };
      changes.push(
        consequence.kind === 'suppress_address'
          ? { ...common, changeId: `bounce:${event.messageId}`, address: consequence.address }
          : { ...common, changeId: `complaint:${event.messageId}`, address: null },
      );
    }
    if (changes.length > 0) await this.recordChanges.execute(changes, { onlyIfChanged: true });
  }
}
