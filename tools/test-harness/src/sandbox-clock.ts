import { eventually } from './eventually';

export interface SandboxClockOptions {
  /** A bearer key of /v1 (API_KEYS). */
  apiKey: string;
  /** How long every process may take to catch up (30 s unless told). */
  timeoutMs?: number;
}

async function clockRequest(baseUrl: string, apiKey: string, body?: { now: string }): Promise<Date> {
  const response = await fetch(`${baseUrl}/v1/sandbox/clock`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `${body ? 'POST' : 'GET'} ${baseUrl}/v1/sandbox/clock answered ${response.status}: ${text}`,
    );
  }
  const answer: unknown = JSON.parse(text);
  const now = typeof answer === 'object' && answer !== null && 'now' in answer ? answer.now : undefined;
  if (typeof now !== 'string') throw new Error(`${baseUrl}/v1/sandbox/clock answered without now: ${text}`);
  return new Date(now);
}

/** The sandbox clock of the process at `baseUrl` (GET /v1/sandbox/clock). */
export function readSandboxClock(baseUrl: string, apiKey: string): Promise<Date> {
  return clockRequest(baseUrl, apiKey);
}

/**
 * Waits until the sandbox clock of every given process (one base URL per instance) is at or
 * past `atLeast`: a move posted to any of them has then reached them all. A process that does
 * not answer yet (restarting) is asked again until the deadline.
 */
export async function waitForSandboxClock(
  baseUrls: readonly string[],
  atLeast: Date,
  options: SandboxClockOptions,
): Promise<void> {
  await Promise.all(
    baseUrls.map((baseUrl) =>
      eventually(
        async () => {
          const now = await readSandboxClock(baseUrl, options.apiKey);
          if (now.getTime() < atLeast.getTime()) {
            throw new Error(`${baseUrl} is at ${now.toISOString()}, not yet at ${atLeast.toISOString()}`);
          }
        },
        { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50 },
      ),
    ),
  );
}

/**
 * Moves the platform's sandbox clock to `now` through the first process given (which answers
 * once it has moved and published the move), then waits until every given process is at or
 * past it. Throws with the answer when the move is refused (409 when `now` is behind).
 */
export async function moveSandboxClock(
  baseUrls: readonly string[],
  now: Date,
  options: SandboxClockOptions,
): Promise<Date> {
  const [via] = baseUrls;
  if (via === undefined) throw new Error('moveSandboxClock needs at least one process');
  const moved = await clockRequest(via, options.apiKey, { now: now.toISOString() });
  await waitForSandboxClock(baseUrls, moved, options);
  return moved;
}
