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

  /**
   * Moves the clock to `target`; moving it back is a conflict (SPEC section 8: 409). Answers the
   * reading at the move itself, so what is announced to other processes names `target` exactly.
   */
  moveTo(target: Date): ClockReading {
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
    return { now: this.advanced(new Date(target.getTime())), wallTime: new Date(wall) };
  }

  /**
   * The clock and the wall clock at one instant: what another process needs to follow this
   * clock (see follow), since their difference stays the same until the next move.
   */
  reading(): ClockReading {
    const wall = this.wall();
    return { now: new Date(wall + this.offsetMs), wallTime: new Date(wall) };
  }

  /**
   * Follows a move another process made (given as its reading right after the move): takes on
   * its offset from wall time when that is ahead of this clock, so processes on one wall clock
   * agree however late the move reaches them. A move behind this clock is ignored: false.
   */
  follow(move: ClockReading): boolean {
    const offsetMs = move.now.getTime() - move.wallTime.getTime();
    if (!Number.isFinite(offsetMs) || offsetMs <= this.offsetMs) return false;
    this.offsetMs = offsetMs;
    this.advanced(this.now());
    return true;
  }

  onAdvance(listener: (now: Date) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private advanced(now: Date): Date {
    for (const listener of this.listeners) listener(now);
    return now;
  }
}

/** A sandbox clock's time and the wall time at the same instant. */
export interface ClockReading {
  now: Date;
  wallTime: Date;
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
