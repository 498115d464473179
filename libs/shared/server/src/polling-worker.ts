import type { Clock } from '@mmp/clock';
import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';

/**
 * The one loop behind every background worker (due timers, scheduled milestones, delivery
 * retries): `work()` runs every `intervalMs` and at once when the sandbox clock jumps, one run at
 * a time. A wake during a run asks for exactly one more run after it, so no wake is lost and
 * runs never overlap. A failing run is logged and retried on the next tick.
 */
export abstract class PollingWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workerLogger = new Logger(this.constructor.name);
  private interval: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  protected constructor(
    protected readonly clock: Clock,
    private readonly intervalMs = 1000,
  ) {}

  /** One run: look for due work and do it (draining full claims back to back). */
  protected abstract work(): Promise<void>;

  onApplicationBootstrap(): void {
    this.interval = setInterval(() => this.wake(), this.intervalMs);
    this.interval.unref();
    this.unsubscribe = this.clock.onAdvance(() => this.wake());
  }

  /**
   * Before the application shuts down, not as it does: the databases and the embedded Postgres
   * close in the shutdown hooks, and a run still ticking then would fail on a closed connection.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.interval);
    this.unsubscribe?.();
    this.again = false;
    await this.running;
  }

  /** Starts a run, or asks the running one for one more run when it is done. */
  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves once a run that started after this call has finished (tests and the sandbox use it). */
  async drainNow(): Promise<void> {
    await this.idle();
    // Through the one slot, so a tick arriving meanwhile waits instead of running alongside.
    this.wake();
    await this.idle();
  }

  private async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runOnce(): Promise<void> {
    try {
      await this.work();
    } catch (error) {
      this.workerLogger.error(
        `run failed; retrying on the next tick: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
