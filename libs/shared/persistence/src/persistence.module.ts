import { AppConfig } from '@mmp/config';
import { ReadinessRegistry } from '@mmp/server';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import {
  assertValidSchemaName,
  openServiceDatabase,
  serviceDatabaseToken,
  type ServiceDatabaseOptions,
} from './service-database';

export type ServiceDatabaseModuleOptions = Omit<ServiceDatabaseOptions, 'url'>;

/** Closes a service's pool when the application shuts down. */
class ServiceDatabaseCloser implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}

  // onApplicationShutdown rather than onModuleDestroy: it runs after every module's destroy and
  // before-shutdown hooks, so consumers still flushing their last writes find the pool open.
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * One service's database, for its NestJS module: `imports: [PersistenceModule.forService({ schema: 'ingestion', migrations })]`,
 * then `@InjectServiceDatabase('ingestion') dataSource: DataSource`. Needs AppConfig and
 * ReadinessRegistry provided globally; adds the readiness check `db:<schema>`. Several services
 * in one process each call forService with their own schema and get their own pool.
 */
@Module({})
export class PersistenceModule {
  static forService(options: ServiceDatabaseModuleOptions): DynamicModule {
    assertValidSchemaName(options.schema);
    const token = serviceDatabaseToken(options.schema);
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: token,
          inject: [AppConfig, ReadinessRegistry],
          useFactory: async (config: AppConfig, readiness: ReadinessRegistry): Promise<DataSource> => {
            const dataSource = await openServiceDatabase({ ...options, url: config.requireDatabaseUrl() });
            readiness.register({
              name: `db:${options.schema}`,
              check: async () => {
                await dataSource.query('SELECT 1');
                return true;
              },
            });
            return dataSource;
          },
        },
        {
          provide: `${token}:closer`,
          inject: [token],
          useFactory: (dataSource: DataSource) => new ServiceDatabaseCloser(dataSource),
        },
      ],
      exports: [token],
    };
  }
}

/** Parameter decorator for the DataSource of a service's schema. */
export function InjectServiceDatabase(schema: string): PropertyDecorator & ParameterDecorator {
  return Inject(serviceDatabaseToken(schema));
}
