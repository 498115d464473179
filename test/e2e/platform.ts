import { InMemoryBus, type MessageBus } from '@mmp/bus';
import { AppConfig, type Environment } from '@mmp/config';
import type { INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import { useTestDatabase } from '../support';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import { ALL_SERVICES } from '@mmp/platform-services';

/** All six services in this process, on the given config and bus, with the shipped program. */
export async function startPlatformForTest(config: AppConfig, bus: MessageBus) {
  const app = await startServices({
    name: 'platform',
    services: ALL_SERVICES,
    config,
    bus,
    program: new ProgramStore(loadProgramFromDir(config.programDir)),
  });
  const baseUrl = await loopbackUrlOf(app);
  return { app, baseUrl };
}

export interface PlatformHandle {
  readonly app: INestApplication;
  readonly bus: InMemoryBus;
  readonly baseUrl: string;
  /** A client on the platform's database, for a spec's own reads and setup. */
  connect(): Promise<Client>;
}

/**
 * For a spec file: all six services in this process on the in-process bus, the shipped program
 * and a fresh database, started before the first test and stopped after the last. `env` adds
 * settings (SANDBOX, a provider...) to the test defaults.
 */
export function usePlatform(env: Environment = {}): PlatformHandle {
  let started: Omit<PlatformHandle, 'connect'> | undefined;
  // Declared before the database's hooks: jest runs afterAll hooks in declaration order, so the
  // services stop before their database is dropped (no "database does not exist" from a scheduler).
  afterAll(async () => {
    await started?.app.close();
    started = undefined;
  });
  const database = useTestDatabase();
  beforeAll(async () => {
    const bus = new InMemoryBus();
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      PROGRAM_DIR: 'program',
      LOG_LEVEL: 'warn',
      ...env,
    });
    started = { bus, ...(await startPlatformForTest(config, bus)) };
  });
  const current = (): Omit<PlatformHandle, 'connect'> => {
    if (!started) throw new Error('usePlatform(): the platform runs only from beforeAll to afterAll');
    return started;
  };
  return {
    get app() {
      return current().app;
    },
    get bus() {
      return current().bus;
    },
    get baseUrl() {
      return current().baseUrl;
    },
    connect: () => database.connect(),
  };
}
