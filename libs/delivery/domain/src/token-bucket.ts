/**
 * A per-provider rate limit: `perSecond` tokens a second, up to `burst` saved. `reserve` takes
 * a token and says how long to wait before using it (0 when one was available), so callers
 * queue fairly in the order they asked. Time is passed in: the bucket runs on the injectable clock.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error('a rate limit needs perSecond > 0 and burst >= 1');
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** Takes one token; returns the wait in ms before the caller may send. */
  reserve(nowMs: number): number {
    if (nowMs > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.updatedAt) * this.perSecond) / 1000);
      this.updatedAt = nowMs;
    }
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens * 1000) / this.perSecond);
  }
}

/** Parses a rate limit setting: `50` (per second, burst 50) or `50/100` (per second / burst). */
export function parseRateLimit(text: string): { perSecond: number; burst: number } | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+))?\s*$/.exec(text);
  if (!match) return undefined;
  const perSecond = Number(match[1]);
  const burst = match[2] === undefined ? Math.max(1, Math.ceil(perSecond)) : Number(match[2]);
  if (!(perSecond > 0) || !(burst >= 1)) return undefined;
  return { perSecond, burst };
}
