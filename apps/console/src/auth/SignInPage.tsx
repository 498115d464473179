import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { describeError } from '../app/use-api';
import { developmentApiKey, signIn } from './session';

/** Checks the key against the API before keeping it, so a typo is told at once. */
export function SignInPage({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [hint, setHint] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void developmentApiKey().then((development) => {
      if (!development) return;
      setHint(development);
      setKey((typed) => typed || development);
    });
  }, []);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/v1/journeys', { key });
      signIn(key);
      onSignedIn(key);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={(event) => void submit(event)}>
        <h1>Milestone console</h1>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          required
        />
        {hint && (
          <p className="hint">
            API_KEYS is not set on this platform: the development key <code>{hint}</code> is filled in.
          </p>
        )}
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={busy || !key}>
          Sign in
        </button>
        <p className="hint">The key is kept for this tab only.</p>
      </form>
    </main>
  );
}
