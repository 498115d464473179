import { CLOCK, type Clock } from '@mmp/clock';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DUE_TIMERS_PER_CLAIM, FireDueTimersUsecase } from './fire-due-timers.usecase';

const POLL_INTERVAL_MS = 1000;
/**
 * Claims in flight at once while draining a backlog: one claim's publish to the bus overlaps the
 * next one's transaction. SKIP LOCKED keeps them (and other service instances) off each other's rows.
 */
const CONCURRENT_CLAIMS = 2;

/**
 * Looks for due timers every second, and at once when the sandbox clock jumps. Claims are
 * drained back to back while full, so a backlog is worked through without waiting a tick. Each
 * tick also publishes sends a crash stranded in the outbox.
 */
@Injectable()
export class TimerScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TimerScheduler.name);
  private interval: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly fireDueTimers: FireDueTimersUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.interval = setInterval(() => this.wake(), POLL_INTERVAL_MS);
    this.interval.unref();
    this.unsubscribe = this.clock.onAdvance(() => this.wake());
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.interval);
    this.unsubscribe?.();
    await this.running;
  }

  /** Starts a drain, or asks the running one to look again when it is done. */
  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when the timers due now have fired (tests and the sandbox use it). */
  async drainNow(): Promise<void> {
    while (this.running) await this.running;
    await this.drain();
  }

  private async drain(): Promise<void> {
    const worker = async (): Promise<void> => {
      while ((await this.fireDueTimers.fireOnce()) === DUE_TIMERS_PER_CLAIM) {
        // A full claim means more may be due.
      }
    };
    const results = await Promise.allSettled([
      ...Array.from({ length: CONCURRENT_CLAIMS }, worker),
      this.fireDueTimers.publishStranded(),
    ]);
    for (const result of results) {
      if (result.status === 'rejected')
        this.logger.error(
          `firing due timers or publishing stranded sends failed; retrying on the next tick: ${String(result.reason)}`,
        );
    }
  }
}
