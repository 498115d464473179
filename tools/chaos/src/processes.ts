import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const OUTPUT_LINES_KEPT = 200;
const START_ATTEMPTS = 3;
/**
 * A killed member stays in its consumer groups until its session times out (30 s, KafkaBus's
 * default); the mock cluster answers a join before that with INVALID_REQUEST at the sync. A
 * restart therefore joins only after this long.
 */
export const GROUP_EVICTION_MS = 32_000;

/**
 * Where every process of this run writes all it printed, one file per process (restarts append):
 * what a failed run is diagnosed from. Named in the report.
 */
export const PROCESS_LOG_DIR = join(tmpdir(), `chaos-logs-${process.pid}`);

/** Every child still running: killed when this process exits, so an interrupted run leaves none behind. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * One service process started from its real entry point (`apps/<app>/src/main.ts`), the way
 * `nx serve` and test/e2e/service-processes.ts do, on a port it keeps across restarts.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private readonly output: string[] = [];
  /** Times this process was killed and came back ready. */
  restarts = 0;
  /** When it was last killed (0: never). */
  killedAt = 0;
  /** Set while this side kills or stops the process: any other exit is a crash, and is reported. */
  private ending = false;

  constructor(
    /** `milestones#2`: the app and the instance. */
    readonly name: string,
    readonly app: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and waits until /health/ready answers 200: a consumer the mock cluster
   * answered INVALID_REQUEST (a join during a rebalance) is replaced by the bus itself, so
   * readiness only waits. A process that exits or never gets ready is started again.
   */
  async start(timeoutMs: number): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.startOnce(timeoutMs);
        return;
      } catch (error) {
        await this.kill();
        if (attempt >= START_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, GROUP_EVICTION_MS));
      }
    }
  }

  private async startOnce(timeoutMs: number): Promise<void> {
    // The deployment names its own database and brokers: the caller's (a test run's) never leak in.
    const { NODE_OPTIONS: _jestOnly, DATABASE_URL: _db, KAFKA_BROKERS: _brokers, ...inherited } = process.env;
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(ROOT, 'apps', this.app, 'src', 'main.ts')],
      {
        cwd: ROOT,
        env: {
          ...inherited,
          ...this.env,
          PORT: String(this.port),
          KAFKA_CLIENT_ID: this.name.replace('#', '-'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      // A process that dies on its own is a finding of the run: say which, and what it last wrote.
      if (!this.ending && this.child === child)
        process.stderr.write(`[chaos] ${this.name} exited on its own (${signal ?? code}):\n${this.tail()}\n`);
    });
    mkdirSync(PROCESS_LOG_DIR, { recursive: true });
    const logFile = join(PROCESS_LOG_DIR, `${this.name.replace('#', '-')}.log`);
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      appendFileSync(logFile, text);
      this.output.push(text);
      if (this.output.length > OUTPUT_LINES_KEPT) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await this.waitUntilReady(child, timeoutMs);
  }

  /** SIGKILL: no shutdown hook runs, as in a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.ending = true;
    child.kill('SIGKILL');
    await exited;
    this.ending = false;
    this.killedAt = Date.now();
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.ending = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** The last lines the process wrote, for error messages. */
  tail(): string {
    return this.output.join('').split('\n').slice(-40).join('\n');
  }

  private async waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.tail()}`);
      }
      try {
        const res = await fetch(`${this.url}/health/ready`);
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.tail()}`);
  }
}

/**
 * Messages the processes' consumers found deleted unread (the bus's "fell out of retention"
 * error): the kcat mock keeps about 5 MB a partition, so a consumer that lags behind that,
 * a restart under load say, loses records and its service's outcome differs for a reason
 * that is the mock's retention, not the platform.
 */
export function offsetsLostToRetention(): number {
  let lost = 0;
  if (!existsSync(PROCESS_LOG_DIR)) return lost;
  for (const file of readdirSync(PROCESS_LOG_DIR)) {
    const text = readFileSync(join(PROCESS_LOG_DIR, file), 'utf8');
    for (const match of text.matchAll(/fell out of retention[^\n]*?\((\d+) messages\)/g))
      lost += Number(match[1]);
  }
  return lost;
}
