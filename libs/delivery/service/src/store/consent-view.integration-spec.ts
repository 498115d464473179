import { openServiceDatabase, queryRows } from '@mmp/persistence';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { deliveryMigrations } from '../migrations';
import { ConsentViewStore, type ConsentViewChange } from './consent-view.store';

/**
 * Delivery's consent view (what the handover reads) must not depend on how consent changes were
 * batched: the latest change wins, and of two changes with the same time the one that came
 * later, in one batch as across two.
 */
describe('delivery consent view', () => {
  const database = useTestDatabase();
  let db: DataSource;
  let store: ConsentViewStore;

  beforeAll(async () => {
    db = await openServiceDatabase({ schema: 'delivery', migrations: deliveryMigrations, url: database.url });
    store = new ConsentViewStore(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  const at = new Date('2030-01-01T12:00:00Z');
  const change = (customerId: string, status: 'opted_in' | 'opted_out', address: string | null = null) =>
    ({ customerId, channel: 'email', status, changedAt: at, address }) satisfies ConsentViewChange;

  async function statusOf(customerId: string): Promise<string | undefined> {
    const rows = await queryRows<{ status: string }>(
      db,
      `SELECT status FROM delivery.consent_view WHERE customer_id = $1 AND channel = 'email'`,
      [customerId],
    );
    return rows[0]?.status;
  }

  async function addressStatusOf(address: string): Promise<string | undefined> {
    const rows = await queryRows<{ status: string }>(
      db,
      `SELECT status FROM delivery.suppressed_addresses WHERE channel = 'email' AND address = $1`,
      [address],
    );
    return rows[0]?.status;
  }

  it('keeps the later of two changes at the same instant, in one batch as in two', async () => {
    for (const [first, last] of [
      ['opted_out', 'opted_in'],
      ['opted_in', 'opted_out'],
    ] as const) {
      const one = `c-one-${first}`;
      const two = `c-two-${first}`;
      await store.applyConsentChanges([change(one, first), change(one, last)]);
      await store.applyConsentChanges([change(two, first)]);
      await store.applyConsentChanges([change(two, last)]);
      expect([await statusOf(one), await statusOf(two)]).toEqual([last, last]);

      const a = `one-${first}@example.com`;
      const b = `two-${first}@example.com`;
      await store.applyConsentChanges([change('c-a', first, a), change('c-a', last, a)]);
      await store.applyConsentChanges([change('c-b', first, b)]);
      await store.applyConsentChanges([change('c-b', last, b)]);
      expect([await addressStatusOf(a), await addressStatusOf(b)]).toEqual([last, last]);
    }
  });
});
