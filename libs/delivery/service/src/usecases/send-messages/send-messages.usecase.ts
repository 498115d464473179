import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import type { OutboundMessage } from '@mmp/channel-sdk';
import { CLOCK, type Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import {
  MessagesEventsTopic,
  type MessageEventV1,
  type MessageRequestedV1,
  type MessageStatus,
} from '@mmp/contracts';
import { consentAllows, resolveAddress, TemplateRenderer } from '@mmp/delivery-domain';
import { signLinkToken } from '@mmp/links';
import { ProgramStore } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { ChannelRegistry } from '../../channels/channel-registry';
import { MessageStore, type MessageOutcome } from '../../store/message.store';

/** Provider calls in flight at once per batch: enough to hide latency, bounded for rate limits. */
const SEND_CONCURRENCY = 16;

interface ReadyToSend {
  request: MessageRequestedV1;
  outbound: OutboundMessage;
}

/**
 * messages.requested.v1 in: each messageId is recorded before any provider call, checked
 * against consent and addresses, rendered, sent once, and its status published on
 * messages.events.v1. A redelivered request never calls a provider again.
 */
@Injectable()
export class SendMessagesUsecase {
  private readonly renderer = new TemplateRenderer();

  constructor(
    private readonly store: MessageStore,
    private readonly channels: ChannelRegistry,
    private readonly program: ProgramStore,
    private readonly config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(requests: readonly MessageRequestedV1[]): Promise<void> {
    const now = this.clock.now();
    const ready = await this.store.transaction(async (tx) => {
      const claim = await this.store.claim(tx, requests.map(toNewMessage), now);
      const consent = await this.store.consentOf(tx, [...new Set(requests.map((r) => r.customerId))]);
      const decided: MessageOutcome[] = [];
      const toSend: ReadyToSend[] = [];
      const seen = new Set<string>();
      for (const request of requests) {
        if (seen.has(request.messageId)) continue;
        seen.add(request.messageId);
        if (claim.outcomeUnknown.has(request.messageId)) {
          // A provider may have it already: a second birthday email is worse than a missing one.
          decided.push(this.outcome(request, 'failed', 'outcome_unknown', now));
        } else if (claim.sendable.has(request.messageId)) {
          const decision = this.decide(request, consent.get(`${request.customerId}/${request.channel}`), now);
          if ('outbound' in decision) toSend.push(decision);
          else decided.push(decision);
        }
      }
      await this.store.recordOutcomes(decided, now, tx);
      return toSend;
    });

    if (ready.length > 0) {
      await this.store.markHandedOver(
        ready.map((r) => r.request.messageId),
        this.clock.now(),
      );
      const sent = await mapWithConcurrency(ready, SEND_CONCURRENCY, (item) => this.send(item));
      await this.store.recordOutcomes(sent, this.clock.now());
    }
    await this.publishStatusEvents(requests.map((r) => r.messageId));
  }

  private decide(
    request: MessageRequestedV1,
    consent: 'opted_in' | 'opted_out' | undefined,
    now: Date,
  ): ReadyToSend | MessageOutcome {
    const program = this.program.current();
    if (request.suppressedReason) return this.outcome(request, 'suppressed', request.suppressedReason, now);
    const template = program.templates[request.template];
    if (!template) return this.outcome(request, 'failed', 'template_missing', now);
    if (!consentAllows(program.policies.consent[request.channel], consent)) {
      return this.outcome(request, 'suppressed', 'consent', now);
    }
    const to = resolveAddress(request.channel, request.customer.traits);
    if (!to) return this.outcome(request, 'suppressed', 'missing_address', now);

    const unsubscribeToken = signLinkToken(
      {
        purpose: 'unsubscribe',
        customerId: request.customerId,
        channel: request.channel,
        messageId: request.messageId,
      },
      this.config.linkSecret,
    );
    const unsubscribeUrl = `${this.config.publicUrl}/u/${unsubscribeToken}`;
    const rendered = this.renderer.render(template, {
      customer: { id: request.customerId, ...request.customer.traits, ...request.customer.attributes },
      milestone: request.milestone,
      journey: { key: request.journeyKey, stepId: request.stepId },
      offer: request.offer ?? {},
      unsubscribeUrl,
    });
    if (!rendered.ok)
      return this.outcome(request, 'failed', 'render_error', now, { detail: rendered.error, to });

    const message = rendered.message;
    return {
      request,
      outbound: {
        messageId: request.messageId,
        customerId: request.customerId,
        channel: request.channel,
        to,
        from: request.channel === 'email' ? this.config.channels.email.from : this.config.channels.sms.from,
        subject: message.subject,
        text: message.text,
        html: message.html,
        body: message.body,
        title: message.title,
        headers:
          request.channel === 'email'
            ? {
                'List-Unsubscribe': `<${unsubscribeUrl}>`,
                'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
              }
            : {},
      },
    };
  }

  private async send({ request, outbound }: ReadyToSend): Promise<MessageOutcome> {
    const { provider, sender } = this.channels.senderFor(request.channel);
    const record = {
      to: typeof outbound.to === 'string' ? outbound.to : outbound.to.join(','),
      subject: outbound.subject ?? outbound.title ?? null,
      body: outbound.text ?? outbound.body ?? outbound.html ?? null,
      provider,
    };
    try {
      const result = await sender.send(outbound);
      return this.outcome(request, 'sent', null, this.clock.now(), {
        ...record,
        providerMessageId: result.providerMessageId,
      });
    } catch (error) {
      const classified = sender.classifyError(error);
      return this.outcome(
        request,
        'failed',
        classified.kind === 'permanent' ? 'provider_rejected' : 'provider_unavailable',
        this.clock.now(),
        record,
      );
    }
  }

  private outcome(
    request: MessageRequestedV1,
    status: MessageStatus,
    reason: string | null,
    at: Date,
    fields: {
      to?: string;
      subject?: string | null;
      body?: string | null;
      provider?: string;
      providerMessageId?: string;
      detail?: string;
    } = {},
  ): MessageOutcome {
    const event: MessageEventV1 = {
      schemaVersion: 1,
      messageId: request.messageId,
      customerId: request.customerId,
      journeyKey: request.journeyKey,
      stepId: request.stepId,
      milestoneKey: request.milestoneKey,
      channel: request.channel,
      template: request.template,
      variant: request.variant,
      status,
      reason,
      occurredAt: at.toISOString(),
    };
    return {
      messageId: request.messageId,
      status,
      reason,
      recipient: fields.to ?? null,
      subject: fields.subject ?? null,
      body: fields.body ?? fields.detail ?? null,
      provider: fields.provider ?? null,
      providerMessageId: fields.providerMessageId ?? null,
      sentAt: status === 'sent' ? at : null,
      event,
    };
  }

  private async publishStatusEvents(messageIds: readonly string[]): Promise<void> {
    const pending = await this.store.pendingStatusEvents(messageIds);
    if (pending.length === 0) return;
    await this.bus.publish(
      MessagesEventsTopic,
      pending.map((p) => ({ key: p.payload.customerId, value: p.payload })),
    );
    await this.store.markStatusEventsPublished(
      pending.map((p) => p.eventId),
      this.clock.now(),
    );
  }
}

function toNewMessage(request: MessageRequestedV1) {
  return {
    messageId: request.messageId,
    customerId: request.customerId,
    journeyKey: request.journeyKey,
    stepId: request.stepId,
    milestoneKey: request.milestoneKey,
    channel: request.channel,
    template: request.template,
    variant: request.variant,
  };
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await work(item);
    }
  });
  await Promise.all(workers);
  return results;
}
