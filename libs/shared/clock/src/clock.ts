import { AppError } from '@mmp/errors';

/**
 * The one clock. Everything that asks "what time is it" asks this, so the sandbox can move
 * time forward and tests can pin it. Never call `new Date()` or `Date.now()` for domain time.
 */
export interface Clock {
  now(): Date;
  /** Called whenever time jumps (sandbox), so schedulers can look for due work at once. */
  onAdvance(listener: (now: Date) => void): () => void;
}

export const CLOCK = Symbol('Clock');

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  onAdvance(): () => void {
    return () => undefined;
  }
}

/**
 * A clock that follows wall time from an offset the sandbox sets, and only ever moves forward.
 * Between moves it keeps ticking, so waits and timers behave as they would in production.
 */
export class SandboxClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<(now: Date) => void>();

  constructor(private readonly wall: () => number = () => Date.now()) {}

  now(): Date {
    return new Date(this.wall() + this.offsetMs);
  }

  /** Moves the clock to `target`; moving it back is a conflict (SPEC section 8: 409). */
  moveTo(target: Date): Date {
    // The wall clock is read once: reading it again to answer could be a millisecond later, and
    // the clock would land after `target` instead of on it.
    const wall = this.wall();
    const current = new Date(wall + this.offsetMs);
    if (Number.isNaN(target.getTime())) {
      throw AppError.validation('now is not a valid date', [
        { path: 'now', message: 'must be an ISO 8601 date-time' },
      ]);
    }
    if (target.getTime() < current.getTime()) {
      throw AppError.conflict(
        `the sandbox clock only moves forward: it is ${current.toISOString()}, ${target.toISOString()} is earlier`,
      );
    }
    this.offsetMs = target.getTime() - wall;
    const now = new Date(target.getTime());
    for (const listener of this.listeners) listener(now);
    return now;
  }

  onAdvance(listener: (now: Date) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A clock that stands still unless moved: for unit tests. */
export class FixedClock implements Clock {
  private readonly listeners = new Set<(now: Date) => void>();

  constructor(private current: Date) {}

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(next: Date): void {
    this.current = new Date(next.getTime());
    for (const listener of this.listeners) listener(this.now());
  }

  advanceBy(ms: number): void {
    this.set(new Date(this.current.getTime() + ms));
  }

  onAdvance(listener: (now: Date) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
