import type { OutboundMessage } from '@mmp/channel-sdk';
import { CLOCK, type Clock } from '@mmp/clock';
import { suppressionAddress, type MessageRequestedV1 } from '@mmp/contracts';
import { consentAllows, resolveAddress } from '@mmp/delivery-domain';
import { ProgramStore } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { MessageComposer } from '../../compose/message-composer';
import {
  mapWithConcurrency,
  messageOutcome,
  ProviderDispatcher,
  recordDispatched,
} from '../../sending/provider-dispatcher';
import { StatusPublisher } from '../../sending/status-publisher';
import { suppressionKey } from '../../store/consent-view.store';
import {
  MessageLedgerStore,
  type MessageOutcome,
  type RecordedOutcomes,
} from '../../store/message-ledger.store';
import type { PendingStatusEvent } from '../../store/outbox.store';
import { PushTokenStore } from '../../store/push-token.store';
import { SendDecisionQuery } from '../../store/send-decision.query';

/** Provider calls in flight at once per batch: enough to hide latency; the rate limit does the rest. */
export const SEND_CONCURRENCY = 16;
/**
 * Messages handed over to providers at once: what a crash (kill -9) can leave `outcome_unknown`.
 * Two rounds of the concurrency keeps calls in flight while bounding that loss.
 */
export const HANDOVER_CHUNK = 2 * SEND_CONCURRENCY;

interface ReadyToSend {
  request: MessageRequestedV1;
  outbound: OutboundMessage;
}

/**
 * messages.requested.v1 in: each messageId is recorded before any provider call, checked
 * against consent and addresses, rendered, sent once, and its status published on
 * messages.events.v1. A redelivered request never calls a provider again; one handed over
 * whose outcome was never recorded (a crash in between) is failed with `outcome_unknown`.
 */
@Injectable()
export class SendMessagesUsecase {
  private handOverTurns: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: MessageLedgerStore,
    private readonly decisionView: SendDecisionQuery,
    private readonly pushTokens: PushTokenStore,
    private readonly composer: MessageComposer,
    private readonly dispatcher: ProviderDispatcher,
    private readonly publisher: StatusPublisher,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(requests: readonly MessageRequestedV1[]): Promise<void> {
    const now = this.clock.now();
    const customerIds = [...new Set(requests.map((r) => r.customerId))];
    const { ready, fresh, recorded } = await this.ledger.transaction(async (tx) => {
      const claim = await this.ledger.claim(
        tx,
        requests.map(toNewMessage),
        requests.map((r) => r.customer),
        now,
      );
      const { consent, unregisteredTokens, suppressed, erased } = await this.decisionView.viewOf(
        tx,
        customerIds,
        listableAddresses(requests),
      );
      const decided: MessageOutcome[] = [];
      const toSend: ReadyToSend[] = [];
      const seen = new Set<string>();
      for (const request of requests) {
        if (seen.has(request.messageId)) continue;
        seen.add(request.messageId);
        if (claim.outcomeUnknown.has(request.messageId)) {
          // A provider may have it already: a second birthday email is worse than a missing one.
          decided.push(messageOutcome(request, 'failed', 'outcome_unknown', now));
        } else if (claim.sendable.has(request.messageId) && erased.has(request.customerId)) {
          // A request still in flight when its customer was erased: nothing of them is stored again.
          decided.push(messageOutcome(request, 'suppressed', 'customer_erased', now));
        } else if (claim.sendable.has(request.messageId)) {
          const decision = this.decide(
            request,
            consent.get(`${request.customerId}/${request.channel}`),
            unregisteredTokens.get(request.customerId),
            suppressed,
            now,
          );
          if ('outbound' in decision) toSend.push(decision);
          else decided.push(decision);
        }
      }
      const recorded = await this.ledger.recordOutcomes(decided, now, tx);
      return { ready: toSend, fresh: claim.fresh, recorded };
    });
    // Only what committed is published: gathered from here on, after the transaction.
    const written = new WrittenOutboxes();
    written.add(recorded);

    // Handed over a chunk at a time, each sent before the next is handed over: a crash can only
    // strand (as outcome_unknown, never resent) what was with the provider at that moment, not
    // the rest of a batch that would still be waiting for the rate limit.
    // Batches of several partitions run at once; their chunks take turns, so one process never
    // has more than one chunk with the providers.
    for (let start = 0; start < ready.length; start += HANDOVER_CHUNK) {
      const chunk = ready.slice(start, start + HANDOVER_CHUNK);
      await this.inTurn(() => this.handOverAndSend(chunk, written));
    }
    // A message this batch claimed first has no rows but those just written; one met before may.
    const reread = new Set(requests.map((r) => r.messageId).filter((id) => !fresh.has(id)));
    for (const id of written.rereadIds) reread.add(id);
    await this.publisher.publishWritten(written.statusEvents, reread);
  }

  /** Runs `work` after every chunk handed over before it has been sent and recorded. */
  private inTurn(work: () => Promise<void>): Promise<void> {
    const turn = this.handOverTurns.then(work);
    this.handOverTurns = turn.catch(() => undefined);
    return turn;
  }

  private async handOverAndSend(ready: readonly ReadyToSend[], written: WrittenOutboxes): Promise<void> {
    // Consent may have changed since the decisions: the handover checks it again, atomically.
    const gate = await this.ledger.handOver(
      ready.map((r) => ({
        messageId: r.request.messageId,
        recipient: suppressionAddress(r.request.channel, [r.outbound.to].flat().join(',')),
      })),
      this.clock.now(),
    );
    const withheld = ready.flatMap((r) => {
      const reason = gate.withheld.get(r.request.messageId);
      return reason ? [messageOutcome(r.request, 'suppressed', reason, this.clock.now())] : [];
    });
    written.add(await this.ledger.recordOutcomes(withheld, this.clock.now()));
    const handedOver = ready.filter((r) => gate.handedOver.has(r.request.messageId));
    if (handedOver.length === 0) return;
    const dispatched = await mapWithConcurrency(handedOver, SEND_CONCURRENCY, (item) =>
      this.dispatcher.dispatch(item.request, item.outbound, 0, item.request),
    );
    const customers = new Map(handedOver.map((r) => [r.request.messageId, r.request.customerId]));
    written.add(
      await recordDispatched(
        { ledger: this.ledger, pushTokens: this.pushTokens },
        dispatched,
        (id) => customers.get(id) ?? '',
        this.clock.now(),
      ),
    );
  }

  private decide(
    request: MessageRequestedV1,
    consent: 'opted_in' | 'opted_out' | undefined,
    unregisteredTokens: ReadonlySet<string> | undefined,
    suppressed: ReadonlySet<string>,
    now: Date,
  ): ReadyToSend | MessageOutcome {
    const program = this.program.current();
    if (request.suppressedReason) return messageOutcome(request, 'suppressed', request.suppressedReason, now);
    if (!program.templates[request.template])
      return messageOutcome(request, 'failed', 'template_missing', now);
    if (!consentAllows(program.policies.consent[request.channel], consent)) {
      return messageOutcome(request, 'suppressed', 'consent', now);
    }
    const to = resolveAddress(request.channel, request.customer.traits, unregisteredTokens);
    if (!to) return messageOutcome(request, 'suppressed', 'missing_address', now);
    const recipient = typeof to === 'string' ? to : to.join(',');
    if (
      typeof to === 'string' &&
      suppressed.has(suppressionKey(request.channel, suppressionAddress(request.channel, to)))
    )
      return messageOutcome(request, 'suppressed', 'suppression_list', now, { to: recipient });

    const input = {
      messageId: request.messageId,
      customerId: request.customerId,
      channel: request.channel,
      templateName: request.template,
      customer: request.customer,
      milestone: request.milestone,
      journey: { key: request.journeyKey, stepId: request.stepId },
      offer: request.offer ?? {},
    };
    const composed = this.composer.compose(input);
    if (!composed.ok)
      return messageOutcome(request, 'failed', composed.reason, now, {
        detail: composed.detail,
        to: recipient,
      });
    return { request, outbound: this.composer.outbound(input, to, composed) };
  }
}

/** What a batch's statements wrote to the outboxes, gathered for its publish. */
class WrittenOutboxes {
  readonly statusEvents: PendingStatusEvent[] = [];
  /** Messages with a dead letter or token report written: those outboxes are read back for them. */
  readonly rereadIds = new Set<string>();

  add(recorded: RecordedOutcomes & { tokenReports?: ReadonlySet<string> }): void {
    this.statusEvents.push(...recorded.statusEvents);
    for (const id of recorded.deadLetters) this.rereadIds.add(id);
    for (const id of recorded.tokenReports ?? []) this.rereadIds.add(id);
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

/** The single addresses (email, phone) these requests would go to, as the suppression list holds them. */
function listableAddresses(requests: readonly MessageRequestedV1[]) {
  return requests.flatMap((request) => {
    const to = resolveAddress(request.channel, request.customer.traits);
    return typeof to === 'string'
      ? [{ channel: request.channel, address: suppressionAddress(request.channel, to) }]
      : [];
  });
}
