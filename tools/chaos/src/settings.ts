import { join } from 'node:path';
import { CHAOS_API_KEY } from './http';

/** The chaos program (tools/chaos/program/program.yaml), wherever the run is started from. */
export const CHAOS_PROGRAM_DIR = join(__dirname, '..', 'program');

/** How a run replays and injects faults. */
export interface RunSettings {
  seed: number;
  /** Settings every service process gets beside its database, brokers and provider fakes. */
  serviceEnvironment: Record<string, string>;
  /** Nothing may change for this long before a stage counts as settled. */
  quietMs: number;
  /**
   * After a kill or a restart, a stage is not settled before this long: a publish stranded by a
   * crash goes out from an outbox sweep after a 30 s lease.
   */
  afterFaultMs: number;
  settleTimeoutMs: number;
  startTimeoutMs: number;
  /** Mean time between two kills while events flow or the clock moves. */
  killEveryMs: number;
  maxKills: number;
}

export function runSettings(overrides: Partial<RunSettings> & { seed: number }): RunSettings {
  return {
    serviceEnvironment: {
      API_KEYS: CHAOS_API_KEY,
      PROGRAM_DIR: CHAOS_PROGRAM_DIR,
      SANDBOX: 'true',
      LOG_LEVEL: 'warn',
    },
    quietMs: 4000,
    afterFaultMs: 35_000,
    settleTimeoutMs: 15 * 60_000,
    startTimeoutMs: 180_000,
    killEveryMs: 5000,
    maxKills: Number.POSITIVE_INFINITY,
    ...overrides,
  };
}
