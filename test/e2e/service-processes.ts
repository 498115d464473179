import { findFreePort } from '@mmp/persistence';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface ServiceProcess {
  name: string;
  url: string;
  process: ChildProcess;
  output: string[];
}

/**
 * Starts a service as its own OS process from its real entry point (apps/<name>/src/main.ts),
 * the way `nx serve <name>` does, and waits until /health/ready answers 200.
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await findFreePort();
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, 'apps', name, 'src', 'main.ts')],
    {
      cwd: ROOT,
      env: { ...inherited, ...env, PORT: String(port), KAFKA_CLIENT_ID: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const service = { name, url: `http://127.0.0.1:${port}`, process: child, output };
  await waitUntilReady(service, 90_000);
  return service;
}

/** Polls the service's /health/ready until it answers 200; fails early when the process exited. */
export async function waitUntilReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null) {
      throw new Error(`${service.name} exited with ${service.process.exitCode}:\n${service.output.join('')}`);
    }
    try {
      const res = await fetch(`${service.url}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs} ms:\n${service.output.join('')}`);
}

export async function stopServiceProcess(service: ServiceProcess): Promise<void> {
  if (service.process.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => service.process.once('exit', () => resolve()));
  service.process.kill('SIGTERM');
  const timer = setTimeout(() => service.process.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The environment `npm start` runs with as the README gives it: this process's, without what the
 * tests set (no DATABASE_URL, no KAFKA_BROKERS, no API_KEYS: the development key), on the given
 * port and embedded data directory.
 */
export function npmStartEnvironment(port: number, dataDir: string): NodeJS.ProcessEnv {
  const {
    NODE_OPTIONS: _jest,
    DATABASE_URL: _database,
    KAFKA_BROKERS: _kafka,
    NODE_ENV: _nodeEnv,
    API_KEYS: _keys,
    ...inherited
  } = process.env;
  return { ...inherited, PORT: String(port), EMBEDDED_PG_DIR: dataDir };
}
