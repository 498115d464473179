import type { Channel } from '@mmp/contracts';
import type { ConsentState } from '@mmp/delivery-domain';
import { queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { suppressionKey } from './consent-view.store';

/** What deciding a batch of sends reads: delivery's consent view and the push tokens providers reported gone. */
export interface SendDecisionView {
  /** By `${customerId}/${channel}`. */
  consent: Map<string, Exclude<ConsentState, undefined>>;
  /** Customers erased. */
  erased: Set<string>;
  /** Addresses on the suppression list now, as suppressionKey() makes them. */
  suppressed: Set<string>;
  /** Per customer, the push tokens a provider reported unregistered. */
  unregisteredTokens: Map<string, Set<string>>;
}

/** One row of the union: `a`, `b` and `c` are the columns of its kind's table. */
type DecisionRow =
  | { kind: 'consent'; a: string; b: string; c: Exclude<ConsentState, undefined> }
  | { kind: 'erased' | 'suppressed' | 'token'; a: string; b: string; c: null };

/**
 * Reads a batch's decision inputs in one statement, inside the claim's transaction: the tables
 * of ConsentViewStore (`consent_view`, `suppressed_addresses`, `erased_customers`) and the
 * token reports PushTokenStore records (`unregistered_push_tokens`). One round trip instead of
 * four: on a busy machine each round trip waits for the CPU, and this is on every send's path.
 */
@Injectable()
export class SendDecisionQuery {
  async viewOf(
    tx: EntityManager,
    customerIds: readonly string[],
    addresses: readonly { channel: Channel; address: string }[],
  ): Promise<SendDecisionView> {
    const view: SendDecisionView = {
      consent: new Map(),
      erased: new Set(),
      suppressed: new Set(),
      unregisteredTokens: new Map(),
    };
    if (customerIds.length === 0) return view;
    const rows = await queryRows<DecisionRow>(
      tx,
      `SELECT 'consent' AS kind, customer_id AS a, channel AS b, status AS c
         FROM delivery.consent_view WHERE customer_id = ANY($1::text[])
       UNION ALL
       SELECT 'erased', customer_id, NULL, NULL FROM delivery.erased_customers WHERE customer_id = ANY($1::text[])
       UNION ALL
       SELECT 'token', customer_id, token, NULL FROM delivery.unregistered_push_tokens WHERE customer_id = ANY($1::text[])
       UNION ALL
       SELECT 'suppressed', s.channel, s.address, NULL FROM delivery.suppressed_addresses s
         JOIN unnest($2::text[], $3::text[]) AS c(channel, address) USING (channel, address)
        WHERE s.status = 'opted_out'`,
      [customerIds, addresses.map((a) => a.channel), addresses.map((a) => a.address)],
    );
    for (const row of rows) {
      if (row.kind === 'consent') view.consent.set(`${row.a}/${row.b}`, row.c);
      else if (row.kind === 'erased') view.erased.add(row.a);
      else if (row.kind === 'suppressed') view.suppressed.add(suppressionKey(row.a, row.b));
      else {
        const tokens = view.unregisteredTokens.get(row.a) ?? new Set<string>();
        tokens.add(row.b);
        view.unregisteredTokens.set(row.a, tokens);
      }
    }
    return view;
  }
}
