import { randomUUID } from 'node:crypto';
import type { MessageBus } from '@mmp/bus';
import type { ClockReading, SandboxClock } from '@mmp/clock';
import { SandboxClockTopic, type SandboxClockMovedV1 } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { Logger } from '@nestjs/common';

/** Every move carries this key: one partition, so moves keep their order. */
const CLOCK_KEY = 'clock';

function readingOf(move: SandboxClockMovedV1): ClockReading {
  return { now: new Date(move.now), wallTime: new Date(move.wallTime) };
}

const offsetOf = (reading: ClockReading): number => reading.now.getTime() - reading.wallTime.getTime();

/** The move furthest ahead: the one a process ends on, whatever the order they were published in. */
function furthest(moves: readonly SandboxClockMovedV1[]): ClockReading | undefined {
  return moves
    .map(readingOf)
    .reduce<ClockReading | undefined>(
      (best, move) => (best === undefined || offsetOf(move) > offsetOf(best) ? move : best),
      undefined,
    );
}

/**
 * Keeps the sandbox clock of every service process on the furthest move accepted by any of
 * them over POST /v1/sandbox/clock. The accepting process moves its own clock, then announces
 * the move on `sandbox.clock.v1`. Every process reads that topic whole when it is created,
 * before its consumers and workers start (so a process started or restarted after a move does
 * no time-based work at the wall time), then follows it in a consumer group of its own. Forward
 * only: a move behind a process's clock leaves it where it is.
 */
export class SandboxClockSync {
  private readonly logger = new Logger(SandboxClockSync.name);

  constructor(
    private readonly clock: SandboxClock,
    private readonly bus: MessageBus,
  ) {}

  /** Subscribes to moves; before the bus starts (see PlatformCoreModule). */
  listen(): void {
    this.bus.subscribe({
      topic: SandboxClockTopic,
      groupId: `sandbox-clock-${randomUUID()}`,
      handler: async (batch) => this.follow(batch.map((message) => message.value)),
    });
  }

  /** Moves this process's clock to the furthest move announced so far. */
  async catchUp(): Promise<void> {
    const moves = await this.bus.readAll(SandboxClockTopic);
    this.follow(moves.map((message) => message.value));
  }

  /**
   * Moves this process's clock to `target` (a conflict when that is earlier) and announces the
   * move to every process, this one included; resolves once the move is published.
   */
  async moveTo(target: Date): Promise<Date> {
    const reading = this.clock.moveTo(target);
    const now = reading.now;
    const move: SandboxClockMovedV1 = {
      schemaVersion: 1,
      now: now.toISOString(),
      wallTime: reading.wallTime.toISOString(),
    };
    try {
      await this.bus.publish(SandboxClockTopic, [{ key: CLOCK_KEY, value: move }]);
    } catch (error) {
      // This process has moved and stays moved (forward only): say so, so the caller moves
      // again, a little later, once the bus is back.
      throw AppError.unavailable(
        `this process's clock moved to ${now.toISOString()}, but the move could not be announced to the other processes: ${describeError(error)}`,
      );
    }
    return now;
  }

  private follow(moves: readonly SandboxClockMovedV1[]): void {
    const move = furthest(moves);
    if (move && this.clock.follow(move)) {
      this.logger.log(`the sandbox clock follows a move: it is now ${this.clock.now().toISOString()}`);
    }
  }
}
