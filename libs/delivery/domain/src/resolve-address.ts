import type { Channel } from '@mmp/contracts';

/** Push tokens a customer may hold at most: one FCM multicast. */
export const MAX_PUSH_TOKENS = 500;

/**
 * Where a message for this channel goes, from the customer's traits; undefined means the
 * message is suppressed with reason `missing_address`. Push goes to the `pushTokens` trait
 * (strings, or `{ token, platform }` as push.token.registered carries them), minus tokens a
 * provider reported unregistered.
 */
export function resolveAddress(
  channel: Channel,
  traits: Readonly<Record<string, unknown>>,
  unregisteredTokens: ReadonlySet<string> = new Set(),
): string | readonly string[] | undefined {
  switch (channel) {
    case 'email':
      return typeof traits['email'] === 'string' ? traits['email'] : undefined;
    case 'sms':
      return typeof traits['phone'] === 'string' ? traits['phone'] : undefined;
    case 'push': {
      const listed = traits['pushTokens'];
      if (!Array.isArray(listed)) return undefined;
      const tokens = [
        ...new Set(
          listed
            .map((entry: unknown): unknown =>
              typeof entry === 'string'
                ? entry
                : typeof entry === 'object' && entry !== null
                  ? Reflect.get(entry, 'token')
                  : undefined,
            )
            .filter((token): token is string => typeof token === 'string' && token.length > 0)
            .filter((token) => !unregisteredTokens.has(token)),
        ),
      ].slice(-MAX_PUSH_TOKENS);
      return tokens.length > 0 ? tokens : undefined;
    }
  }
}
