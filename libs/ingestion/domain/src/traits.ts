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
    if (value === undefined) continue;
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
    const versionA = a.versions[key];
    const versionB = b.versions[key];
    const winner = versionB === undefined || (versionA !== undefined && versionA >= versionB) ? a : b;
    const version = winner.versions[key];
    if (version === undefined) continue;
    versions[key] = version;
    if (Object.hasOwn(winner.values, key)) values[key] = winner.values[key];
  }
  return { values, versions };
}
