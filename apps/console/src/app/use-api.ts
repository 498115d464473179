import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

interface Answer<T> {
  /** The deps the answer was loaded for: another journey's or query's answer is never shown. */
  forDeps: string;
  data?: T;
  error?: string;
}

/**
 * Loads once per change of `deps` (strings and numbers); `reload` fetches again and keeps showing
 * the current answer meanwhile (the journey map's refresh). While the deps changed and the new
 * answer is not in, there is no data: a page never draws one journey's map with another's data.
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const forDeps = JSON.stringify(deps);
  const [answer, setAnswer] = useState<Answer<T> | null>(null);
  const [pending, setPending] = useState(true);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setPending(true);
    load().then(
      (data) => {
        if (!current) return;
        setAnswer({ forDeps, data });
        setPending(false);
      },
      (error: unknown) => {
        if (!current) return;
        setAnswer({ forDeps, error: describeError(error) });
        setPending(false);
      },
    );
    return () => {
      current = false;
    };
  }, [forDeps, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const fresh = answer?.forDeps === forDeps ? answer : undefined;
  return { data: fresh?.data, error: fresh?.error, loading: !fresh || pending, reload };
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
