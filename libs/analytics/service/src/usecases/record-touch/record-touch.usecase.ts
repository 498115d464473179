import { machineReasonOf, type TouchKind } from '@mmp/analytics-domain';
import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { MessagesEventsTopic } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { verifyLinkToken } from '@mmp/links';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MessageFactsStore, type TrackedMessage } from '../../store/message-facts.store';
import { TouchStore } from '../../store/touch.store';

const PURPOSE: Record<TouchKind, string> = { open: 'open', click: 'click' };

/**
 * An open (pixel fetched) or a click (wrapped link followed). The token is verified first, so a
 * tampered or foreign token records nothing. Every touch is stored; the first human one of each
 * kind per message becomes the message's `opened`/`clicked` status on messages.events.v1.
 */
@Injectable()
export class RecordTouchUseCase {
  private readonly logger = new Logger(RecordTouchUseCase.name);

  constructor(
    private readonly touches: TouchStore,
    private readonly facts: MessageFactsStore,
    private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Answers where a click goes (the signed original URL); null for an open. */
  async execute(
    kind: TouchKind,
    token: string,
    userAgent: string | null,
  ): Promise<{ redirectTo: string | null }> {
    const now = this.clock.now();
    const verified = verifyLinkToken(token, this.config.linkSecret, now);
    if (!verified.ok) throw new AppError('bad_request', `invalid tracking token (${verified.reason})`);
    const { payload } = verified;
    if (payload.purpose !== PURPOSE[kind])
      throw new AppError('bad_request', 'invalid tracking token (purpose)');
    const redirectTo = kind === 'click' ? safeRedirect(payload.url) : null;

    const message = await this.facts.trackedMessage(payload.messageId);
    const machineReason = machineReasonOf({ kind, userAgent, at: now, sentAt: message?.sentAt ?? null });
    const { firstHuman } = await this.touches.record({
      messageId: payload.messageId,
      kind,
      at: now,
      userAgent,
      machineReason,
      url: redirectTo,
    });
    if (firstHuman && message) await this.publish(kind, message.event, now);
    return { redirectTo };
  }

  private async publish(kind: TouchKind, event: TrackedMessage['event'], at: Date): Promise<void> {
    try {
      await this.bus.publish(MessagesEventsTopic, [
        {
          key: event.customerId,
          value: {
            ...event,
            status: kind === 'open' ? 'opened' : 'clicked',
            reason: null,
            occurredAt: at.toISOString(),
          },
        },
      ]);
    } catch (error) {
      // The reader still gets the pixel or the redirect; the fact is recorded, only the event is lost.
      this.logger.warn(`could not publish ${kind} of ${event.messageId}: ${describeError(error)}`);
    }
  }
}

/** Only http(s) URLs: a signed token cannot smuggle a javascript: or data: URL into a redirect. */
function safeRedirect(url: string | undefined): string {
  if (url === undefined) throw new AppError('bad_request', 'invalid tracking token (no url)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('bad_request', 'invalid tracking token (url)');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new AppError('bad_request', 'invalid tracking token (url scheme)');
  return parsed.toString();
}
