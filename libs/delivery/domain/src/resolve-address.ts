import type { Channel } from '@mmp/contracts';

/**
 * Where a message for this channel goes, from the customer's traits; undefined means the
 * message is suppressed with reason `missing_address`.
 */
export function resolveAddress(
  channel: Channel,
  traits: Readonly<Record<string, unknown>>,
): string | undefined {
  switch (channel) {
    case 'email':
      return typeof traits['email'] === 'string' ? traits['email'] : undefined;
    case 'sms':
      return typeof traits['phone'] === 'string' ? traits['phone'] : undefined;
    case 'push':
      return undefined; // Push tokens come with the delivery issue; until then push has no address.
  }
}
