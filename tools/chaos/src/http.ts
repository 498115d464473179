/** The bearer key both deployments of a run accept. */
export const CHAOS_API_KEY = 'chaos-key';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * Whether `error` is fetch's connection failure (refused, reset). By name, not `instanceof
 * TypeError`: under jest the test's realm has a TypeError of its own, and fetch's is Node's.
 */
export function isConnectionFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && Reflect.get(error, 'name') === 'TypeError';
}

/** One call with the run's key; a connection failure throws (the caller decides to retry). */
export async function call(
  baseUrl: string,
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<JsonAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${CHAOS_API_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: res.status, body: parsed };
}

/**
 * Calls until an answer that is not a connection failure or a 5xx arrives: what a retailer's
 * client does while a service restarts. Gives up at the deadline.
 */
export async function callUntilAnswered(
  url: () => string,
  path: string,
  method: string,
  body: unknown,
  timeoutMs = 180_000,
): Promise<JsonAnswer> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  while (Date.now() < deadline) {
    try {
      const answer = await call(url(), path, method, body);
      if (answer.status < 500) return answer;
      lastProblem = `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
    } catch (error) {
      lastProblem = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${method} ${path} got no answer within ${timeoutMs} ms: ${lastProblem}`);
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(lanes);
}
