import type { WebhookRequest } from '@mmp/channel-sdk';
import { CLOCK, type Clock } from '@mmp/clock';
import type { Channel } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChannelRegistry } from '../../channels/channel-registry';
import { SnsVerifier } from '../../receipts/sns-verifier';
import { StatusPublisher } from '../../sending/status-publisher';
import { ReceiptStore } from '../../store/receipt.store';

export interface WebhookAnswer {
  received: number;
  applied: number;
  /** A SubscriptionConfirmation: visited (`confirmed`), or only logged when its URL is not SNS's. */
  subscription?: 'confirmed' | 'confirmation_logged';
}

/**
 * A provider's receipt webhook in: the channel's plugin reads (and verifies) it, the receipts
 * move the named messages' statuses forward, and the changes go out on messages.events.v1.
 */
@Injectable()
export class ReceiveWebhookUsecase {
  private readonly logger = new Logger('DeliveryWebhooks');

  constructor(
    private readonly channels: ChannelRegistry,
    private readonly receipts: ReceiptStore,
    private readonly publisher: StatusPublisher,
    private readonly sns: SnsVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(channel: Channel, provider: string, request: WebhookRequest): Promise<WebhookAnswer> {
    const loaded = this.channels.senderFor(channel);
    if (loaded.provider !== provider || !loaded.sender.parseWebhook)
      throw AppError.notFound(`the ${channel} channel does not use ${provider} (it uses ${loaded.provider})`);
    // SES receipts come through SNS: nothing is read from a message SNS did not sign.
    const signed = provider === 'ses' ? await this.sns.verify(request.rawBody) : undefined;
    const outcome = loaded.sender.parseWebhook(request);
    switch (outcome.kind) {
      case 'rejected':
        throw new AppError('unauthorized', `webhook rejected: ${outcome.reason}`);
      case 'subscription':
        // Only a message SNS signed gets here for SES; any other plugin's confirmation is logged.
        if (signed && (await this.sns.confirmSubscription(outcome.confirmUrl, signed.certUrl))) {
          this.logger.log(`SNS subscription to ${outcome.topic} confirmed`);
          return { received: 0, applied: 0, subscription: 'confirmed' };
        }
        this.logger.warn(
          `SNS subscription to ${outcome.topic} waits for confirmation: visit ${outcome.confirmUrl}`,
        );
        return { received: 0, applied: 0, subscription: 'confirmation_logged' };
      case 'receipts': {
        const changed = await this.receipts.applyReceipts(outcome.receipts, provider, this.clock.now());
        await this.publisher.publishPending(changed);
        return { received: outcome.receipts.length, applied: changed.length };
      }
    }
  }
}
