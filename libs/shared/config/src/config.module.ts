import { DynamicModule, Module } from '@nestjs/common';

import { AppConfig } from './app-config';

/**
 * Makes the one validated AppConfig injectable everywhere by its class. The config is read
 * from the environment before Nest starts, so a bad setting stops start-up before any module
 * is built.
 */
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
