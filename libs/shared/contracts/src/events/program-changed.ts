import { z } from 'zod';
import { IsoDateTime } from './primitives';

/**
 * A program accepted over PUT /v1/program, for every service process to switch to. Internal to
 * the platform: each process validates `program` again with its own program schema before using it.
 */
export const ProgramChangedV1 = z.object({
  schemaVersion: z.literal(1),
  /** The program's content version (12 hex digits): equal content, equal version. */
  version: z.string(),
  changedAt: IsoDateTime,
  /** The program as JSON, as GET /v1/program answers it. */
  program: z.record(z.string(), z.unknown()),
});
export type ProgramChangedV1 = z.infer<typeof ProgramChangedV1>;
