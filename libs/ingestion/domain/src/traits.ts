/**
 * Traits merge per key by the time of the event that set them, so the profile ends up the
 * same whatever order the events arrive in: the latest `occurredAt` wins, ties broken by
 * eventId so replays are deterministic. `null` clears a trait (and the clearing is itself
 * timestamped, so an older event arriving later cannot bring the value back).
 */
export interface TraitState {
  /** Current values, cleared traits omitted. */
  values: Record<string, unknown>;
  /** Per trait: the version (`occurredAt|eventId`) that last set or cleared it. */
  versions: Record<string, string>;
}

export const emptyTraitState = (): TraitState => ({ values: {}, versions: {} });

function versionOf(occurredAt: Date, eventId: string): string {
  // ISO strings of UTC instants sort chronologically as text.
  return `${occurredAt.toISOString()}|${eventId}`;
}

export function applyTraits(
  state: TraitState,
  traits: Record<string, unknown> | undefined,
  occurredAt: Date,
  eventId: string,
): TraitState {
  if (!traits) return state;
  const version = versionOf(occurredAt, eventId);
  const values = { ...state.values };
  const versions = { ...state.versions };
  for (const [key, value] of Object.entries(traits)) {
    // Push tokens have events of their own (applyPushToken): a trait cannot overwrite their state.
    if (value === undefined || isPushTokenTraitKey(key)) continue;
    const current = versions[key];
    if (current !== undefined && current > version) continue;
    versions[key] = version;
    if (value === null) delete values[key];
    else values[key] = value;
  }
  return { values, versions };
}

/**
 * Two trait histories as one (an anonymous profile merged into its customer): per trait the
 * later version wins, exactly as if every event had been applied to one profile. Merging is
 * commutative and idempotent, so the order of merges and replays does not matter.
 */
export function mergeTraitStates(a: TraitState, b: TraitState): TraitState {
  const values: Record<string, unknown> = {};
  const versions: Record<string, string> = {};
  for (const key of new Set([...Object.keys(a.versions), ...Object.keys(b.versions)])) {
    // A push token's state carries its +/- mark before the version: compare the versions alone.
    const comparable = (version: string | undefined) =>
      version !== undefined && isPushTokenTraitKey(key) ? version.slice(1) : version;
    const versionA = comparable(a.versions[key]);
    const versionB = comparable(b.versions[key]);
    const winner = versionB === undefined || (versionA !== undefined && versionA >= versionB) ? a : b;
    const version = winner.versions[key];
    if (version === undefined) continue;
    versions[key] = version;
    if (Object.hasOwn(winner.values, key)) values[key] = winner.values[key];
  }
  return { values: withPushTokens(values, versions), versions };
}

/**
 * The `pushTokens` trait is derived, never set directly: `push.token.registered` adds a token and
 * `push.token.unregistered` removes it. Each token keeps its latest state in `versions` under
 * `pushTokens/<token>`, as `+<version>` (registered) or `-<version>` (unregistered), so an older
 * registration arriving after a newer unregistration cannot bring the token back, nor the other
 * way round, and merging two histories keeps each token's latest state.
 */
export const PUSH_TOKENS_TRAIT = 'pushTokens';
const PUSH_TOKEN_KEY_PREFIX = `${PUSH_TOKENS_TRAIT}/`;

/** Whether a trait key is kept by push token events rather than set by traits. */
export const isPushTokenTraitKey = (key: string): boolean =>
  key === PUSH_TOKENS_TRAIT || key.startsWith(PUSH_TOKEN_KEY_PREFIX);

export function applyPushToken(
  state: TraitState,
  token: string,
  registered: boolean,
  occurredAt: Date,
  eventId: string,
): TraitState {
  const key = `${PUSH_TOKEN_KEY_PREFIX}${token}`;
  const version = versionOf(occurredAt, eventId);
  const current = state.versions[key];
  if (current !== undefined && current.slice(1) > version) return state;
  const versions = { ...state.versions, [key]: `${registered ? '+' : '-'}${version}` };
  return { values: withPushTokens(state.values, versions), versions };
}

/**
 * The tokens registered now, oldest registration first: delivery uses the last ones when a
 * customer has more than one multicast's worth. Without any, the trait is absent.
 */
function withPushTokens(
  values: Record<string, unknown>,
  versions: Record<string, string>,
): Record<string, unknown> {
  const registered = Object.entries(versions)
    .filter(([key, state]) => key.startsWith(PUSH_TOKEN_KEY_PREFIX) && state.startsWith('+'))
    .sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key]) => key.slice(PUSH_TOKEN_KEY_PREFIX.length));
  const next = { ...values };
  if (registered.length > 0) next[PUSH_TOKENS_TRAIT] = registered;
  else delete next[PUSH_TOKENS_TRAIT];
  return next;
}
