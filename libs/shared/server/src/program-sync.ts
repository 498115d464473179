import { randomUUID } from 'node:crypto';
import type { MessageBus } from '@mmp/bus';
import type { Clock } from '@mmp/clock';
import { ProgramChangesTopic, type ProgramChangedV1 } from '@mmp/contracts';
import { programVersion, ProgramStore, validateProgram, type Program } from '@mmp/program';
import { Logger } from '@nestjs/common';

/** Every message on the topic carries this key: one partition, so changes keep their order. */
const PROGRAM_KEY = 'program';

/**
 * Keeps every service process on the program last accepted over PUT /v1/program. The process
 * that accepts a program announces it on `program.changes.v1`; every process reads that topic
 * from the beginning in a consumer group of its own, so each one (a restarted one too) ends on the
 * latest announced program, which then wins over its PROGRAM_DIR file. Each validates the
 * program again before switching, and keeps its current one when it cannot.
 */
export class ProgramSync {
  private readonly logger = new Logger(ProgramSync.name);

  constructor(
    private readonly program: ProgramStore,
    private readonly bus: MessageBus,
    private readonly clock: Clock,
  ) {}

  /**
   * Subscribes to program changes. Called when the provider is made (see ProgramModule), which
   * is before the bus starts: Nest's module-init hooks run only after the bus server started it.
   */
  listen(): void {
    this.bus.subscribe({
      topic: ProgramChangesTopic,
      groupId: `program-sync-${randomUUID()}`,
      handler: async (batch) => this.apply(batch.map((message) => message.value)),
    });
  }

  /** Tells every process (this one included) to switch to `program`. */
  async announce(program: Program): Promise<void> {
    const version = programVersion(program);
    const change: ProgramChangedV1 = {
      schemaVersion: 1,
      version,
      changedAt: this.clock.now().toISOString(),
      program: { ...program },
    };
    await this.bus.publish(ProgramChangesTopic, [{ key: PROGRAM_KEY, value: change }]);
  }

  private apply(changes: readonly ProgramChangedV1[]): void {
    const latest = changes.at(-1);
    if (!latest || latest.version === programVersion(this.program.current())) return;
    try {
      this.program.replace(
        validateProgram(latest.program, { fileName: `${ProgramChangesTopic.name} ${latest.version}` }),
      );
      this.logger.log(`program ${latest.version} (accepted ${latest.changedAt}) is now in force`);
    } catch (error) {
      this.logger.error(
        `program ${latest.version} from ${ProgramChangesTopic.name} is not valid here; keeping ${programVersion(this.program.current())}: ${String(error)}`,
      );
    }
  }
}
