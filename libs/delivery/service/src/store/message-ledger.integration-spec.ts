import type { OutboundMessage } from '@mmp/channel-sdk';
import { openServiceDatabase, queryRows } from '@mmp/persistence';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { deliveryMigrations } from '../migrations';
import { messageOutcome } from '../sending/provider-dispatcher';
import { MessageLedgerStore } from './message-ledger.store';

/**
 * The ledger is what keeps a message from reaching a provider twice when two deliveries see
 * the same request: a redelivery after a rebalance while the first delivery is still at work,
 * or after a crash.
 */
describe('delivery message ledger', () => {
  const database = useTestDatabase();
  let db: DataSource;
  let ledger: MessageLedgerStore;

  beforeAll(async () => {
    db = await openServiceDatabase({ schema: 'delivery', migrations: deliveryMigrations, url: database.url });
    ledger = new MessageLedgerStore(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  const now = new Date('2030-01-01T12:00:00Z');
  const message = (messageId: string) => ({
    messageId,
    customerId: `customer-of-${messageId}`,
    journeyKey: 'birthday',
    stepId: 'celebrate',
    milestoneKey: 'birthday',
    channel: 'email' as const,
    template: 'birthday_email',
    variant: 'treatment',
  });
  const claim = (messageId: string) =>
    ledger.transaction((tx) => ledger.claim(tx, [message(messageId)], [], now));
  const handOver = (messageId: string) =>
    ledger.handOver([{ messageId, recipient: `${messageId}@example.com` }], now);

  it('hands a message claimed by two deliveries to only one of them', async () => {
    // Both claim before either hands over: to each, the message is new or queued and never sent.
    const [first, second] = [await claim('m-race-1'), await claim('m-race-1')];
    expect([first.sendable.has('m-race-1'), second.sendable.has('m-race-1')]).toEqual([true, true]);

    const [a, b] = await Promise.all([handOver('m-race-1'), handOver('m-race-1')]);
    expect([...a.handedOver, ...b.handedOver]).toEqual(['m-race-1']);
    expect([...a.withheld, ...b.withheld]).toEqual([]);
  });

  it('hands nothing over again once a message was handed over, and a later claim reports its outcome unknown', async () => {
    await claim('m-race-2');
    expect([...(await handOver('m-race-2')).handedOver]).toEqual(['m-race-2']);
    expect([...(await handOver('m-race-2')).handedOver]).toEqual([]);

    const redelivered = await claim('m-race-2');
    expect({ sendable: [...redelivered.sendable], unknown: [...redelivered.outcomeUnknown] }).toEqual({
      sendable: [],
      unknown: ['m-race-2'],
    });
    const rows = await queryRows<{ status: string }>(
      db,
      `SELECT status FROM delivery.messages WHERE message_id = 'm-race-2'`,
    );
    expect(rows).toEqual([{ status: 'queued' }]);
  });

  it("records a chunk's outcomes, their status events and its dead letters in one statement, and only for messages still queued", async () => {
    const ids = ['m-out-sent', 'm-out-retry', 'm-out-dead', 'm-out-late'];
    for (const id of ids) await claim(id);
    // m-out-late was failed (outcome_unknown) by the stale-handover sweep before its outcome came back.
    await ledger.recordOutcomes(
      [messageOutcome(message('m-out-late'), 'failed', 'outcome_unknown', now)],
      now,
    );
    const outbound: OutboundMessage = {
      messageId: 'm-out',
      customerId: 'customer-of-m-out',
      channel: 'email',
      to: 'x@example.com',
      from: undefined,
      subject: 'Hi',
      text: 'Hello',
      html: undefined,
      body: undefined,
      title: undefined,
      headers: {},
    };
    const later = new Date(now.getTime() + 60_000);
    // Every statement goes through the Postgres query runner: BEGIN and COMMIT included.
    const statements = jest.spyOn(PostgresQueryRunner.prototype, 'query');

    await ledger.recordOutcomes(
      [
        {
          ...messageOutcome(message('m-out-sent'), 'sent', null, now, {
            to: 'x@example.com',
            provider: 'sandbox',
          }),
          attempts: 1,
        },
        {
          ...messageOutcome(message('m-out-retry'), 'queued', null, now),
          attempts: 1,
          retryAt: later,
          pendingOutbound: outbound,
          lastError: 'throttled',
        },
        {
          ...messageOutcome(message('m-out-dead'), 'failed', 'retries_exhausted', now, {
            provider: 'sandbox',
          }),
          attempts: 5,
          lastError: 'timeout',
          deadLetter: {
            customerId: 'customer-of-m-out-dead',
            channel: 'email',
            provider: 'sandbox',
            outbound,
            request: null,
          },
        },
        { ...messageOutcome(message('m-out-late'), 'sent', null, now), attempts: 1 },
      ],
      now,
    );
    expect(statements).toHaveBeenCalledTimes(1);
    statements.mockRestore();

    const messages = await queryRows<{
      message_id: string;
      status: string;
      reason: string | null;
      retry: boolean;
    }>(
      db,
      `SELECT message_id, status, reason, next_attempt_at IS NOT NULL AS retry
         FROM delivery.messages WHERE message_id = ANY($1::text[]) ORDER BY message_id`,
      [ids],
    );
    expect(messages).toEqual([
      { message_id: 'm-out-dead', status: 'failed', reason: 'retries_exhausted', retry: false },
      { message_id: 'm-out-late', status: 'failed', reason: 'outcome_unknown', retry: false },
      { message_id: 'm-out-retry', status: 'queued', reason: null, retry: true },
      { message_id: 'm-out-sent', status: 'sent', reason: null, retry: false },
    ]);
    const events = await queryRows<{ event_id: string; status: string }>(
      db,
      `SELECT event_id, payload ->> 'status' AS status FROM delivery.status_outbox
        WHERE message_id = ANY($1::text[]) ORDER BY event_id`,
      [ids],
    );
    expect(events).toEqual([
      { event_id: 'm-out-dead:failed', status: 'failed' },
      { event_id: 'm-out-late:failed', status: 'failed' },
      { event_id: 'm-out-sent:sent', status: 'sent' },
    ]);
    const dead = await queryRows<{
      message_id: string;
      attempts: number;
      last_error: string;
      reason: string;
    }>(
      db,
      `SELECT message_id, attempts, last_error, reason FROM delivery.dead_letters WHERE message_id = ANY($1::text[])`,
      [ids],
    );
    expect(dead).toEqual([
      { message_id: 'm-out-dead', attempts: 5, last_error: 'timeout', reason: 'retries_exhausted' },
    ]);
  });

  it('hands over a message claimed but stranded before its handover (a crash in between)', async () => {
    await claim('m-race-3');
    const again = await claim('m-race-3');
    expect([...again.sendable]).toEqual(['m-race-3']);
    expect([...(await handOver('m-race-3')).handedOver]).toEqual(['m-race-3']);
  });
});
