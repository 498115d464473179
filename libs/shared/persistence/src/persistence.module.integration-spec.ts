// Real: Postgres (the provisioned server, in schemas of this file's own) and NestJS dependency
// injection. Mocked: nothing; AppConfig and ReadinessRegistry come from a small global module
// standing in for the platform core.
import { AppConfig } from '@mmp/config';
import { ReadinessRegistry } from '@mmp/server';
import { Global, Injectable, Module, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

import { InjectServiceDatabase, PersistenceModule } from './persistence.module';
import { useScratchSchemas } from './scratch-schemas.spec-helper';
import { serviceDatabaseToken } from './service-database';
import { queryRows } from './sql';

class CreateNotes1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE notes (body text NOT NULL)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE notes');
  }
}

/** A service module as a service library writes one, on a schema named by the spec. */
function serviceModule(schema: string): { module: Type<unknown>; notes: Type<{ dataSource: DataSource }> } {
  @Injectable()
  class Notes {
    constructor(@InjectServiceDatabase(schema) readonly dataSource: DataSource) {}
  }

  @Module({
    imports: [PersistenceModule.forService({ schema, migrations: [CreateNotes1767225600000] })],
    providers: [Notes],
  })
  class ServiceModule {}

  return { module: ServiceModule, notes: Notes };
}

function platformStandIn(config: AppConfig, readiness: ReadinessRegistry): Type<unknown> {
  @Global()
  @Module({
    providers: [
      { provide: AppConfig, useValue: config },
      { provide: ReadinessRegistry, useValue: readiness },
    ],
    exports: [AppConfig, ReadinessRegistry],
  })
  class PlatformStandIn {}
  return PlatformStandIn;
}

async function startApp(modules: Array<Type<unknown>>): Promise<INestApplicationContext> {
  @Module({ imports: modules })
  class Root {}
  return NestFactory.createApplicationContext(Root, { logger: false });
}

describe('PersistenceModule.forService', () => {
  const schemas = useScratchSchemas();
  const journeysSchema = schemas.name('journeys');
  const analyticsSchema = schemas.name('analytics');
  const journeys = serviceModule(journeysSchema);
  const analytics = serviceModule(analyticsSchema);
  const config = AppConfig.fromEnvironment({ DATABASE_URL: schemas.url });

  describe('with two services in one process', () => {
    let app: INestApplicationContext;
    let readiness: ReadinessRegistry;

    beforeAll(async () => {
      readiness = new ReadinessRegistry();
      app = await startApp([platformStandIn(config, readiness), journeys.module, analytics.module]);
    });

    afterAll(async () => {
      await app.close();
    });

    it('gives each service its own DataSource on its own schema', async () => {
      const journeysDatabase = app.get<DataSource>(serviceDatabaseToken(journeysSchema), { strict: false });
      const analyticsDatabase = app.get<DataSource>(serviceDatabaseToken(analyticsSchema), { strict: false });
      expect(journeysDatabase).not.toBe(analyticsDatabase);

      await journeysDatabase.query(`INSERT INTO notes VALUES ('from journeys')`);
      expect(await queryRows(journeysDatabase, 'SELECT body FROM notes')).toEqual([
        { body: 'from journeys' },
      ]);
      expect(await queryRows(analyticsDatabase, 'SELECT body FROM notes')).toEqual([]);
    });

    it('injects the DataSource into a service class through InjectServiceDatabase', () => {
      const notes = app.get(journeys.notes, { strict: false });
      expect(notes.dataSource).toBe(app.get(serviceDatabaseToken(journeysSchema), { strict: false }));
    });

    it('registers a readiness check per schema that answers while the database is reachable', async () => {
      await expect(readiness.evaluate()).resolves.toEqual({
        ready: true,
        checks: { [`db:${journeysSchema}`]: true, [`db:${analyticsSchema}`]: true },
      });
    });
  });

  it('closes the pool when the application closes, after which the readiness check fails', async () => {
    const readiness = new ReadinessRegistry();
    const app = await startApp([platformStandIn(config, readiness), journeys.module]);
    const dataSource = app.get<DataSource>(serviceDatabaseToken(journeysSchema), { strict: false });
    expect(dataSource.isInitialized).toBe(true);

    await app.close();

    expect(dataSource.isInitialized).toBe(false);
    await expect(readiness.evaluate()).resolves.toEqual({
      ready: false,
      checks: { [`db:${journeysSchema}`]: false },
    });
  });
});
