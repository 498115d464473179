import type { ProblemDetail } from './types';

/** The error shape every service answers with (SPEC section 3), thrown by the client. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ProblemDetail[] = [],
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: ProblemDetail[] };
}

/** Called on every 401, so an expired or revoked key sends the operator back to sign-in. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

let apiKey: string | null = null;
export function setApiKey(key: string | null): void {
  apiKey = key;
}

/** 0.25 s, then twice as long each time: about 8 s in all before the page shows the error. */
const RETRIES_OF_READS = 5;

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** One call to the platform's API on this origin (the proxy routes each /v1 path to its service). */
export async function api<T>(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    text?: string;
    contentType?: string;
    accept?: string;
    key?: string;
  } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
  const key = init.key ?? apiKey;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (init.text !== undefined) {
    body = init.text;
    headers['content-type'] = init.contentType ?? 'application/yaml';
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  const method = init.method ?? 'GET';
  let response = await fetch(path, { method, headers, body });
  // A read the service could not answer for now (503 unavailable, retriable by SPEC) is asked
  // again, briefly, before the page shows an error; writes are never repeated.
  for (let retry = 1; response.status === 503 && method === 'GET' && retry <= RETRIES_OF_READS; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 125 * 2 ** retry));
    response = await fetch(path, { method, headers, body });
  }
  const raw = await response.text();
  if (!response.ok) {
    let parsed: ErrorBody = {};
    try {
      parsed = decode<ErrorBody>(raw);
    } catch {
      // Not the platform's error shape (e.g. a proxy's page): the status line says enough.
    }
    if (response.status === 401) onUnauthorized();
    throw new ApiError(
      response.status,
      parsed.error?.code ?? 'http_error',
      parsed.error?.message ?? `${response.status} ${response.statusText}`,
      parsed.error?.details ?? [],
    );
  }
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return decode<T>(json ? raw : JSON.stringify(raw || null));
}

/**
 * The one place the wire meets the types: the console trusts the platform's documented shapes
 * (api/types.ts, checked against the API by the browser tests) instead of validating each answer.
 */
function decode<T>(raw: string): T {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return
  return JSON.parse(raw);
}
