import { CLOCK, type Clock } from '@mmp/clock';
import { describeError } from '@mmp/errors';
import { PollingWorker } from '@mmp/server';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { mapWithConcurrency, ProviderDispatcher, recordDispatched } from '../../sending/provider-dispatcher';
import { DELIVERY_TIMING, type DeliveryTiming } from '../../sending/delivery-timing';
import { StatusPublisher } from '../../sending/status-publisher';
import { MessageLedgerStore } from '../../store/message-ledger.store';
import { PushTokenStore } from '../../store/push-token.store';
import { RetryQueueStore } from '../../store/retry-queue.store';
import { HANDOVER_CHUNK, SEND_CONCURRENCY } from '../send-messages/send-messages.usecase';

/**
 * A message handed over this long ago without an outcome was lost with its process: failed as
 * `outcome_unknown`, never resent. Far above a provider call's timeout plus the rate-limit wait
 * of a whole chunk.
 */
export const STALE_HANDOVER_MS = 60 * 60_000;

/** An outbox row unpublished this long after its commit was left behind: the sweep publishes it. */
export const OUTBOX_LEASE_MS = 30_000;

/**
 * Sends the queued messages whose retry time (on the injectable clock) has come: each is
 * claimed and marked handed over in one statement, sent once more, and recorded like a first send.
 */
@Injectable()
export class RetryDueMessagesUsecase extends PollingWorker {
  private readonly logger = new Logger('DeliveryRetries');

  constructor(
    private readonly retryQueue: RetryQueueStore,
    private readonly ledger: MessageLedgerStore,
    private readonly pushTokens: PushTokenStore,
    private readonly dispatcher: ProviderDispatcher,
    private readonly publisher: StatusPublisher,
    @Inject(CLOCK) clock: Clock,
    @Inject(DELIVERY_TIMING) private readonly timing: DeliveryTiming,
  ) {
    super(clock, timing.retryPollMs > 0 ? timing.retryPollMs : 1000);
  }

  /** Sends every retry due now; returns how many provider calls it made. */
  async execute(): Promise<number> {
    const now = this.clock.now();
    const stale = await this.retryQueue.failStaleHandovers(new Date(now.getTime() - STALE_HANDOVER_MS), now);
    if (stale.length > 0) {
      this.logger.warn(
        `${stale.length} message(s) lost between a provider call and its record: failed as outcome_unknown`,
      );
      await this.publisher.publishPending(stale);
    }
    // Outbox rows whose publish after their commit did not happen (a broker outage, a crash). A
    // broker still down must not hold up the retries: the rows wait for the next round.
    try {
      await this.publisher.publishLeftovers(OUTBOX_LEASE_MS);
    } catch (error) {
      this.logger.warn(`outbox sweep failed, trying again next round: ${describeError(error)}`);
    }
    // An opt-out (or a suppressed address) since the first attempt holds for the retry too.
    const withheld = await this.retryQueue.withholdRetries(now);
    if (withheld.length > 0) await this.publisher.publishPending(withheld);
    let total = 0;
    for (;;) {
      const due = await this.retryQueue.claimDueRetries(this.clock.now(), HANDOVER_CHUNK);
      if (due.length === 0) return total;
      total += due.length;
      const dispatched = await mapWithConcurrency(due, SEND_CONCURRENCY, (retry) =>
        this.dispatcher.dispatch(retry.ref, retry.outbound, retry.attempts, retry.request),
      );
      const customers = new Map(due.map((d) => [d.ref.messageId, d.ref.customerId]));
      await recordDispatched(
        { ledger: this.ledger, pushTokens: this.pushTokens },
        dispatched,
        (id) => customers.get(id) ?? '',
        this.clock.now(),
      );
      await this.publisher.publishPending(due.map((d) => d.ref.messageId));
    }
  }

  /** The loop runs on wall time every `retryPollMs`, and at once when the sandbox clock jumps; 0 turns it off. */
  override onApplicationBootstrap(): void {
    if (this.timing.retryPollMs > 0) super.onApplicationBootstrap();
  }

  protected async work(): Promise<void> {
    await this.execute();
  }
}
