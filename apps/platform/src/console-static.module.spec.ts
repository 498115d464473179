import { InMemoryBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { bootstrapService } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleStaticModule } from './console-static.module';

describe('ConsoleStaticModule', () => {
  const started: INestApplication[] = [];
  const folders: string[] = [];
  afterEach(async () => {
    for (const app of started.splice(0)) await app.close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  async function serve(env: Record<string, string>, files: Record<string, string>) {
    const dist = mkdtempSync(join(tmpdir(), 'mmp-console-dist-'));
    folders.push(dist);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
    const app = await bootstrapService({
      name: 'platform',
      config: AppConfig.fromEnvironment({ PORT: '0', LOG_LEVEL: 'error', ...env }),
      bus: new InMemoryBus(),
      services: [ConsoleStaticModule.servingFrom(dist)],
    });
    started.push(app);
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    return (path: string) => fetch(`${base}${path}`);
  }

  it('serves the built console at / and leaves the API paths to the API', async () => {
    const get = await serve({ API_KEYS: 'k' }, { 'index.html': '<div id="root"></div>' });
    const page = await get('/');
    expect({ status: page.status, type: page.headers.get('content-type'), body: await page.text() }).toEqual({
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<div id="root"></div>',
    });
    expect((await get('/health/live')).status).toBe(200);
    const unknown = await get('/v1/nothing-here');
    expect(unknown.status).toBe(404);
  });

  it('tells the sign-in page the development key only while API_KEYS is unset', async () => {
    const development = await serve({}, { 'index.html': '' });
    expect(await (await development('/console-config.json')).json()).toEqual({
      developmentApiKey: 'dev-key',
    });
    const configured = await serve({ API_KEYS: 'k' }, { 'index.html': '' });
    expect(await (await configured('/console-config.json')).json()).toEqual({});
  });

  it('says how to build the console when it is not built', async () => {
    const get = await serve({ API_KEYS: 'k' }, {});
    const page = await get('/');
    expect({ status: page.status, body: await page.text() }).toEqual({
      status: 503,
      body: 'The console is not built: run `npm run console:build`, then reload.\n',
    });
  });
});
