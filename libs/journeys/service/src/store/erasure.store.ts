import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** What erasure touches in journeys: the instances' profiles (live ones end) and the outbox's payloads. */
@Injectable()
export class ErasureStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /**
   * Erasure (SPEC section 6): blanks the customer's traits in every instance and in every outbox
   * payload, and ends live instances with reason `customer_erased`. Counts and group memberships
   * stay, so aggregates are unchanged.
   */
  async eraseCustomers(tx: EntityManager, customerIds: readonly string[], now: Date): Promise<void> {
    await runSql(
      tx,
      `UPDATE journeys.instances
          SET profile = jsonb_set(profile, '{traits}', '{}'::jsonb),
              exit_reason = CASE WHEN status IN ('active', 'waiting') THEN 'customer_erased' ELSE exit_reason END,
              wake_at = CASE WHEN status IN ('active', 'waiting') THEN NULL ELSE wake_at END,
              status = CASE WHEN status IN ('active', 'waiting') THEN 'exited' ELSE status END,
              updated_at = $2
        WHERE customer_id = ANY($1::text[])`,
      [customerIds, now],
    );
    await runSql(
      tx,
      `UPDATE journeys.outbox o
          SET payload = jsonb_set(o.payload, '{customer,traits}', '{}'::jsonb)
         FROM journeys.instances i
        WHERE i.instance_id = o.instance_id AND i.customer_id = ANY($1::text[])`,
      [customerIds],
    );
  }
}
