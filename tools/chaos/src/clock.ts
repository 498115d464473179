import { call, isConnectionFailure } from './http';

export interface ClockHolder {
  name: string;
  url: string;
  /** False once the process is gone (killed): a connection failure then means it is not there. */
  readonly running: boolean;
}

/**
 * Moves the sandbox clock of every given process to `now` and waits until each one reports at
 * least `now` on `GET /v1/sandbox/clock`. POST /v1/sandbox/clock on one process is meant to move
 * every process (over the bus); posting to each one as well is harmless (moves are forward only:
 * a process already there answers 409) and keeps this working where a POST moves only its own.
 */
export async function moveClocks(
  holders: readonly ClockHolder[],
  now: Date,
  timeoutMs = 60_000,
): Promise<void> {
  for (const holder of holders) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const answer = await call(holder.url, '/v1/sandbox/clock', 'POST', { now: now.toISOString() });
        if (answer.status !== 200 && answer.status !== 409) {
          throw new Error(
            `${holder.name}: POST /v1/sandbox/clock answered ${answer.status} ${JSON.stringify(answer.body)}`,
          );
        }
        break;
      } catch (error) {
        if (!isConnectionFailure(error)) throw error;
        // Killed: it gets the clock when it is back. Still running: a reset connection, try again.
        if (!holder.running || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
  await Promise.all(holders.map((holder) => waitForClock(holder, now, timeoutMs)));
}

/** Waits until the process reports a clock at or after `now`; a process not listening is skipped. */
async function waitForClock(holder: ClockHolder, now: Date, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let current: number | undefined;
    try {
      const answer = await call(holder.url, '/v1/sandbox/clock');
      if (answer.status === 404) throw new Error(`${holder.name} has no sandbox clock: is SANDBOX=true?`);
      const reported: unknown = Reflect.get(Object(answer.body), 'now');
      current = typeof reported === 'string' ? Date.parse(reported) : undefined;
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      if (!holder.running) return; // Killed meanwhile: its restart sets the clock.
    }
    if (current !== undefined && current >= now.getTime()) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${holder.name} still reports ${String(current)} ${timeoutMs} ms after the clock moved to ${now.toISOString()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
