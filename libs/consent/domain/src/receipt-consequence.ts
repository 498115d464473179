import { suppressionAddress, type Channel } from '@mmp/contracts';

/** What consent does about a delivery status event (SPEC section 6, SES webhooks). */
export type ReceiptConsequence =
  | { kind: 'suppress_address'; channel: Channel; address: string; reason: string }
  | { kind: 'opt_out'; channel: Channel; reason: 'complaint' };

export interface ReceiptEvent {
  channel: Channel;
  status: string;
  reason: string | null;
  address?: string | null | undefined;
}

/**
 * A permanent bounce suppresses the address that bounced, and nothing else of the customer; a
 * complaint (email marked as spam) opts the customer out of email; a transient bounce, like
 * every other status, changes nothing. `fallbackAddress` is the customer's address as consent
 * last saw it, for a bounce that does not name its address.
 */
export function receiptConsequence(
  event: ReceiptEvent,
  fallbackAddress?: string,
): ReceiptConsequence | undefined {
  if (event.reason === 'complaint') return { kind: 'opt_out', channel: 'email', reason: 'complaint' };
  if (event.status !== 'bounced' || !isPermanentBounce(event.reason)) return undefined;
  const address = event.address ?? fallbackAddress;
  if (!address) return undefined;
  return {
    kind: 'suppress_address',
    channel: event.channel,
    address: suppressionAddress(event.channel, address),
    reason: event.reason ?? 'permanent_bounce',
  };
}

function isPermanentBounce(reason: string | null): boolean {
  return (
    reason === 'permanent' ||
    reason === 'permanent_bounce' ||
    (reason?.startsWith('permanent_bounce:') ?? false)
  );
}
