/**
 * Wakes waiters when something they wait for may have changed, and fails them when nothing
 * changed for too long: a stalled pipeline must fail the run loudly, not hang it. Event driven
 * rather than polled, so waiting adds no latency and no CPU to what is being measured.
 */
export class Progress {
  private waiters: Waiter[] = [];
  private lastChangeAt = Date.now();
  private failure: Error | undefined;

  constructor(private readonly stallTimeoutMs: number) {}

  /** Something moved: re-evaluate every waiter's condition. */
  notify(): void {
    this.lastChangeAt = Date.now();
    this.settle();
  }

  /** Fails every current and future waiter (a consumer crashed, a produce failed). */
  fail(error: Error): void {
    this.failure ??= error;
    this.settle();
  }

  /** Resolves once `condition` holds; rejects after stallTimeoutMs without any notify(), naming `what`. */
  async until(condition: () => boolean, what: () => string): Promise<void> {
    if (this.failure) throw this.failure;
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { condition, resolve, reject, what, timer: undefined };
      waiter.timer = setInterval(
        () => {
          const idleMs = Date.now() - this.lastChangeAt;
          if (idleMs > this.stallTimeoutMs) {
            this.remove(waiter);
            reject(new Error(`stalled for ${Math.round(idleMs / 1000)} s waiting for ${what()}`));
          }
        },
        Math.min(1000, this.stallTimeoutMs),
      );
      this.waiters.push(waiter);
    });
  }

  private settle(): void {
    for (const waiter of [...this.waiters]) {
      if (this.failure) {
        this.remove(waiter);
        waiter.reject(
          new Error(`${this.failure.message} (while waiting for ${waiter.what()})`, { cause: this.failure }),
        );
      } else if (waiter.condition()) {
        this.remove(waiter);
        waiter.resolve();
      }
    }
  }

  private remove(waiter: Waiter): void {
    clearInterval(waiter.timer);
    this.waiters = this.waiters.filter((other) => other !== waiter);
  }
}

interface Waiter {
  condition: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  what: () => string;
  timer: NodeJS.Timeout | undefined;
}
