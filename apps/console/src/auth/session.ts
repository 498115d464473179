import { setApiKey } from '../api/client';

/** The key lives for the tab's session only: closing the tab signs out. */
const STORAGE_KEY = 'mmp.console.apiKey';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  setApiKey(key);
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  setApiKey(null);
}

/** The development key the platform announces while API_KEYS is unset (`npm start` on a laptop). */
export async function developmentApiKey(): Promise<string | null> {
  try {
    const response = await fetch('console-config.json');
    if (!response.ok) return null;
    const config: unknown = await response.json();
    if (typeof config === 'object' && config !== null && 'developmentApiKey' in config) {
      const key = config.developmentApiKey;
      return typeof key === 'string' ? key : null;
    }
    return null;
  } catch {
    return null;
  }
}
