import { z } from 'zod';
import { IsoDateTime } from './primitives';

/**
 * A move of the sandbox clock accepted over POST /v1/sandbox/clock, for every service process
 * to follow. Internal to the platform. It carries the clock's offset from wall time rather than
 * a bare instant (`now` minus `wallTime`), so a process that reads it seconds or hours later
 * (lag, a restart) lands on the same time as the process that moved, not behind it.
 */
export const SandboxClockMovedV1 = z.object({
  schemaVersion: z.literal(1),
  /** The sandbox clock right after the move. */
  now: IsoDateTime,
  /** The mover's wall clock at that same instant. */
  wallTime: IsoDateTime,
});
export type SandboxClockMovedV1 = z.infer<typeof SandboxClockMovedV1>;
