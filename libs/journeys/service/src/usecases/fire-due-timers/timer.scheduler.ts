import { CLOCK, type Clock } from '@mmp/clock';
import { PollingWorker } from '@mmp/server';
import { Inject, Injectable } from '@nestjs/common';
import { DUE_TIMERS_PER_CLAIM, FireDueTimersUsecase } from './fire-due-timers.usecase';

/**
 * Claims in flight at once while draining a backlog: one claim's publish to the bus overlaps the
 * next one's transaction. SKIP LOCKED keeps them (and other service instances) off each other's rows.
 */
const CONCURRENT_CLAIMS = 2;

/**
 * Looks for due timers every second, and at once when the sandbox clock jumps. Claims are
 * drained back to back while full, so a backlog is worked through without waiting a tick. Each
 * tick also publishes sends a crash stranded in the outbox, and (once a minute) prunes the kept
 * customer events no instance can need.
 */
@Injectable()
export class TimerScheduler extends PollingWorker {
  constructor(
    private readonly fireDueTimers: FireDueTimersUsecase,
    @Inject(CLOCK) clock: Clock,
  ) {
    super(clock);
  }

  protected async work(): Promise<void> {
    const worker = async (): Promise<void> => {
      while ((await this.fireDueTimers.fireOnce()) === DUE_TIMERS_PER_CLAIM) {
        // A full claim means more may be due.
      }
    };
    const results = await Promise.allSettled([
      ...Array.from({ length: CONCURRENT_CLAIMS }, worker),
      this.fireDueTimers.publishStranded(),
      this.fireDueTimers.pruneEventHistory(),
    ]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
