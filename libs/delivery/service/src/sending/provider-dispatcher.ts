import type { OutboundMessage } from '@mmp/channel-sdk';
import { CLOCK, type Clock } from '@mmp/clock';
import type { Channel, MessageEventV1, MessageRequestedV1, MessageStatus } from '@mmp/contracts';
import { nextRetry, TokenBucket } from '@mmp/delivery-domain';
import { Inject, Injectable } from '@nestjs/common';
import { ChannelRegistry } from '../channels/channel-registry';
import type {
  MessageLedgerStore,
  MessageOutcome,
  MessageRef,
  RecordedOutcomes,
} from '../store/message-ledger.store';
import type { PushTokenStore } from '../store/push-token.store';
import { DELIVERY_TIMING, type DeliveryTiming } from './delivery-timing';
import { countHandover } from './provider-handovers.metric';

/** One provider call's result: the outcome to record and tokens the provider said are gone. */
export interface Dispatched {
  outcome: MessageOutcome;
  unregisteredTokens: readonly string[];
}

/**
 * Makes one provider call for a message, within the provider's rate limit, and turns the
 * answer into an outcome: `sent`; `queued` again with a retry time (a retryable error, with
 * backoff and jitter on the injectable clock); `failed` with `provider_rejected` (a permanent
 * error) or `retries_exhausted` plus a dead-letter record.
 */
@Injectable()
export class ProviderDispatcher {
  private readonly buckets = new Map<Channel, TokenBucket>();

  constructor(
    private readonly channels: ChannelRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DELIVERY_TIMING) private readonly timing: DeliveryTiming,
  ) {}

  /** `request` is the original messages.requested.v1 request: kept with a retry, and dead-lettered with it. */
  async dispatch(
    ref: MessageRef,
    outbound: OutboundMessage,
    attemptsBefore: number,
    request: MessageRequestedV1 | null,
  ): Promise<Dispatched> {
    const { provider, sender } = this.channels.senderFor(ref.channel);
    const wait = this.bucketOf(ref.channel).reserve(this.clock.now().getTime());
    if (wait > 0) await this.timing.sleep(wait);
    const attempts = attemptsBefore + 1;
    const record = {
      to: typeof outbound.to === 'string' ? outbound.to : outbound.to.join(','),
      subject: outbound.subject ?? outbound.title ?? null,
      body: outbound.text ?? outbound.body ?? outbound.html ?? null,
      provider,
    };
    try {
      const result = await sender.send(outbound);
      countHandover(ref.channel, provider, 'sent');
      return {
        outcome: {
          ...messageOutcome(ref, 'sent', null, this.clock.now(), {
            ...record,
            providerMessageId: result.providerMessageId,
          }),
          attempts,
        },
        unregisteredTokens: result.invalidAddresses ?? [],
      };
    } catch (error) {
      const classified = sender.classifyError(error);
      const now = this.clock.now();
      const unregisteredTokens = classified.invalidAddresses ?? [];
      if (classified.kind === 'permanent') {
        countHandover(ref.channel, provider, 'rejected');
        return {
          outcome: {
            ...messageOutcome(ref, 'failed', 'provider_rejected', now, record),
            attempts,
            lastError: classified.reason,
          },
          unregisteredTokens,
        };
      }
      const decision = nextRetry(
        this.timing.retryPolicy,
        attempts,
        classified.retryAfterMs,
        this.timing.random(),
      );
      if (decision.retry) {
        countHandover(ref.channel, provider, 'retry');
        return {
          outcome: {
            ...messageOutcome(ref, 'queued', null, now, record),
            attempts,
            retryAt: new Date(now.getTime() + decision.delayMs),
            pendingOutbound: outbound,
            pendingRequest: request,
            lastError: classified.reason,
          },
          unregisteredTokens,
        };
      }
      countHandover(ref.channel, provider, 'retries_exhausted');
      return {
        outcome: {
          ...messageOutcome(ref, 'failed', 'retries_exhausted', now, record),
          attempts,
          lastError: classified.reason,
          deadLetter: { customerId: ref.customerId, channel: ref.channel, provider, outbound, request },
        },
        unregisteredTokens,
      };
    }
  }

  private bucketOf(channel: Channel): TokenBucket {
    let bucket = this.buckets.get(channel);
    if (!bucket) {
      const { rateLimit } = this.channels.senderFor(channel);
      bucket = new TokenBucket(rateLimit.perSecond, rateLimit.burst, this.clock.now().getTime());
      this.buckets.set(channel, bucket);
    }
    return bucket;
  }
}

/** The outcome of a message and the status event that goes with it. */
export function messageOutcome(
  ref: MessageRef,
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
    messageId: ref.messageId,
    customerId: ref.customerId,
    journeyKey: ref.journeyKey,
    stepId: ref.stepId,
    milestoneKey: ref.milestoneKey,
    channel: ref.channel,
    template: ref.template,
    variant: ref.variant,
    status,
    reason,
    occurredAt: at.toISOString(),
  };
  return {
    messageId: ref.messageId,
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

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
export async function mapWithConcurrency<T, R>(
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

/**
 * Records what providers answered for a batch: outcomes, and the push tokens they said are gone.
 * Answers what the outcomes wrote to the outboxes, and the messages whose token reports it wrote.
 */
export async function recordDispatched(
  { ledger, pushTokens }: { ledger: MessageLedgerStore; pushTokens: PushTokenStore },
  dispatched: readonly Dispatched[],
  customerOf: (messageId: string) => string,
  now: Date,
): Promise<RecordedOutcomes & { tokenReports: Set<string> }> {
  const outcomes = dispatched.map((d) => d.outcome);
  const tokens = dispatched.flatMap((d) =>
    d.unregisteredTokens.map((token) => ({
      token,
      customerId: customerOf(d.outcome.messageId),
      provider: d.outcome.provider ?? 'unknown',
      messageId: d.outcome.messageId,
    })),
  );
  // The outcomes are one statement, which commits their status events and dead letters with
  // them: a chunk whose providers reported no token needs no transaction around it.
  if (tokens.length === 0)
    return { ...(await ledger.recordOutcomes(outcomes, now)), tokenReports: new Set() };
  // One transaction: a token report (an outbox row) commits with its outcome.
  return ledger.transaction(async (tx) => {
    const recorded = await ledger.recordOutcomes(outcomes, now, tx);
    await pushTokens.recordUnregisteredTokens(tokens, now, tx);
    return { ...recorded, tokenReports: new Set(tokens.map((t) => t.messageId)) };
  });
}
