import { ProgramStore } from '@mmp/program';
import { Global, Module, type DynamicModule } from '@nestjs/common';

/** Provides the one ProgramStore of the process, which every service reads its definitions from. */
@Global()
@Module({})
export class ProgramModule {
  static forRoot(store: ProgramStore): DynamicModule {
    return {
      module: ProgramModule,
      providers: [{ provide: ProgramStore, useValue: store }],
      exports: [ProgramStore],
    };
  }
}
