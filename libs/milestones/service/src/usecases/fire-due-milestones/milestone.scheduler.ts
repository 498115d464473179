import { CLOCK, type Clock } from '@mmp/clock';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CoverProgramUsecase } from '../cover-program/cover-program.usecase';
import {
  PublishOccurrencesUsecase,
  STALE_OCCURRENCES_PER_CLAIM,
} from '../publish-occurrences/publish-occurrences.usecase';
import { DUE_MILESTONES_PER_CLAIM, FireDueMilestonesUsecase } from './fire-due-milestones.usecase';

const POLL_INTERVAL_MS = 1000;

/**
 * Every second, and at once when the sandbox clock jumps: brings the schedule in step with the
 * program, fires the due milestones (draining full claims back to back) and republishes
 * occurrences whose publisher failed. Several instances may run: claims skip locked rows.
 */
@Injectable()
export class MilestoneScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MilestoneScheduler.name);
  private interval: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly coverProgram: CoverProgramUsecase,
    private readonly fireDue: FireDueMilestonesUsecase,
    private readonly publisher: PublishOccurrencesUsecase,
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

  /** Resolves when the milestones due now have fired (tests and the sandbox use it). */
  async drainNow(): Promise<void> {
    while (this.running) await this.running;
    // Through the one slot, so a tick arriving meanwhile waits instead of draining alongside.
    this.wake();
    await this.currentDrain();
  }

  private currentDrain(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    try {
      await this.coverProgram.execute();
      while ((await this.fireDue.fireOnce()).claimed === DUE_MILESTONES_PER_CLAIM) {
        // A full claim means more may be due.
      }
      while ((await this.publisher.republishStale()) === STALE_OCCURRENCES_PER_CLAIM) {
        // Likewise for a backlog of unpublished occurrences.
      }
    } catch (error) {
      this.logger.error(`firing due milestones failed; retrying on the next tick: ${String(error)}`);
    }
  }
}
