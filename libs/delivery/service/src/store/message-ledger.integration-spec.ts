import { openServiceDatabase, queryRows } from '@mmp/persistence';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { deliveryMigrations } from '../migrations';
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
    ledger.transaction((tx) => ledger.claim(tx, [message(messageId)], now));
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

  it('hands over a message claimed but stranded before its handover (a crash in between)', async () => {
    await claim('m-race-3');
    const again = await claim('m-race-3');
    expect([...again.sendable]).toEqual(['m-race-3']);
    expect([...(await handOver('m-race-3')).handedOver]).toEqual(['m-race-3']);
  });
});
