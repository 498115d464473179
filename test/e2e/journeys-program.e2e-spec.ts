import { readFileSync } from 'node:fs';
import { createMessageBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { JourneysModule } from '@mmp/journeys-service';
import { loadProgramFromDir, programVersion, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import { eventually, useTestDatabase } from '../support';

/**
 * A program change reaches every service process over the Kafka protocol: the journeys process
 * accepts PUT /v1/program and announces it; another process (standing for milestones, delivery...)
 * switches to it, and so does a process started afterwards. Afterwards the shipped program is put
 * back, so later specs on the same cluster replay to the program they start with.
 */
describe('a program change across service processes', () => {
  // Declared before the database, so the processes stop before their database is dropped.
  afterAll(async () => {
    if (journeysUrl) await put(shippedSource);
    for (const app of apps.splice(0).reverse()) await app.close();
  }, 60_000);
  const database = useTestDatabase();
  const shippedSource = readFileSync('program/program.yaml', 'utf8');
  const shipped = loadProgramFromDir('program');
  const changedSource = shippedSource.replace(
    '  - key: second_order_thanks\n    trigger: second_order\n    priority: 5',
    '  - key: second_order_thanks\n    trigger: second_order\n    priority: 7',
  );
  const apps: INestApplication[] = [];
  let journeysUrl: string;

  async function startProcess(name: string, withJourneys: boolean): Promise<INestApplication> {
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      KAFKA_CLIENT_ID: `${name}-${Date.now()}`,
      PORT: '0',
      API_KEYS: 'test-key',
      PROGRAM_DIR: 'program',
      LOG_LEVEL: 'warn',
    });
    const app = await startServices({
      name,
      services: withJourneys ? [JourneysModule] : [],
      config,
      bus: createMessageBus(config),
      program: new ProgramStore(loadProgramFromDir(config.programDir)),
    });
    apps.push(app);
    return app;
  }

  async function put(source: string): Promise<{ status: number; body: { version: string } }> {
    const response = await fetch(`${journeysUrl}/v1/program`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/yaml' },
      body: source,
    });
    return { status: response.status, body: (await response.json()) as { version: string } };
  }

  const versionOf = (app: INestApplication): string => programVersion(app.get(ProgramStore).current());

  beforeAll(async () => {
    const journeys = await startProcess('journeys', true);
    journeysUrl = await loopbackUrlOf(journeys);
  }, 60_000);

  it('switches a running process and one started later to the accepted program', async () => {
    const other = await startProcess('milestones', false);
    expect(versionOf(other)).toBe(programVersion(shipped));

    const accepted = await put(changedSource);
    expect(accepted.status).toBe(200);
    expect(accepted.body.version).not.toBe(programVersion(shipped));
    expect(versionOf(apps[0]!)).toBe(accepted.body.version);
    await eventually(() => expect(versionOf(other)).toBe(accepted.body.version), { timeoutMs: 30_000 });
    const priorityIn = (app: INestApplication) =>
      app
        .get(ProgramStore)
        .current()
        .journeys.find((j) => j.key === 'second_order_thanks')?.priority;
    expect(priorityIn(other)).toBe(7);

    // A process that starts now replays the topic and ends on the accepted program, not its file.
    const later = await startProcess('delivery', false);
    await eventually(() => expect(versionOf(later)).toBe(accepted.body.version), { timeoutMs: 30_000 });
    expect(priorityIn(later)).toBe(7);
  }, 60_000);
});
