import type { Loaded } from './use-api';

/** Loading and error lines, the same on every page. */
export function Status({ loaded }: { loaded: Pick<Loaded<unknown>, 'loading' | 'error'> }) {
  if (loaded.error) return <p role="alert">{loaded.error}</p>;
  if (loaded.loading) return <p aria-live="polite">Loading…</p>;
  return null;
}
