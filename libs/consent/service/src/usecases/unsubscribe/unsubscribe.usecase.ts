import { CLOCK, type Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { Channel } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { verifyLinkToken } from '@mmp/links';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RecordConsentChangesUsecase } from '../record-consent-changes/record-consent-changes.usecase';

export type UnsubscribeSource = 'list_unsubscribe_one_click' | 'unsubscribe_page';

/** What an unsubscribe token allows: opting its customer out of its channel. */
export interface UnsubscribeTarget {
  customerId: string;
  channel: Channel;
  messageId: string;
}

/**
 * `/u/{token}` (SPEC section 6, RFC 8058): the token is the whole authority, so it is checked
 * before anything else: signed under LINK_SECRET, unexpired, made for unsubscribing, naming a
 * channel. Any failure is a 400 and changes nothing.
 */
@Injectable()
export class UnsubscribeUsecase {
  constructor(
    private readonly config: AppConfig,
    private readonly recordChanges: RecordConsentChangesUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  check(token: string): UnsubscribeTarget {
    const verified = verifyLinkToken(token, this.config.linkSecret, this.clock.now());
    if (!verified.ok) throw new AppError('bad_request', `unsubscribe link is not valid (${verified.reason})`);
    const { purpose, customerId, channel, messageId } = verified.payload;
    if (purpose !== 'unsubscribe')
      throw new AppError('bad_request', 'unsubscribe link is not valid (not an unsubscribe link)');
    const parsed = Channel.safeParse(channel);
    if (!parsed.success) throw new AppError('bad_request', 'unsubscribe link is not valid (unknown channel)');
    return { customerId, channel: parsed.data, messageId };
  }

  /** Opts out at once; a second use of the link while opted out records nothing more. */
  async execute(
    token: string,
    source: UnsubscribeSource,
    client: { ip: string | null; userAgent: string | null },
  ): Promise<UnsubscribeTarget> {
    const target = this.check(token);
    await this.recordChanges.execute(
      [
        {
          schemaVersion: 1,
          changeId: randomUUID(),
          customerId: target.customerId,
          channel: target.channel,
          status: 'opted_out',
          source,
          actor: 'customer',
          changedAt: this.clock.now().toISOString(),
          address: null,
          ip: client.ip,
          userAgent: client.userAgent,
          messageId: target.messageId,
        },
      ],
      { onlyIfChanged: true },
    );
    return target;
  }
}
