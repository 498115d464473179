import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { ProgramStore } from '@mmp/program';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ProgramSync } from './program-sync';

/**
 * Provides the one ProgramStore of the process, which every service reads its definitions from,
 * and ProgramSync, which switches it to every program accepted over PUT /v1/program.
 */
@Global()
@Module({})
export class ProgramModule {
  static forRoot(store: ProgramStore): DynamicModule {
    return {
      module: ProgramModule,
      providers: [
        { provide: ProgramStore, useValue: store },
        {
          provide: ProgramSync,
          inject: [MESSAGE_BUS, CLOCK],
          useFactory: (bus: MessageBus, clock: Clock): ProgramSync => {
            const sync = new ProgramSync(store, bus, clock);
            sync.listen();
            return sync;
          },
        },
      ],
      exports: [ProgramStore, ProgramSync],
    };
  }
}
