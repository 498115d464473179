import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@mmp/persistence';
import { HANDOVER_CHUNK } from '@mmp/delivery-service';
import { eventually } from '../support';
import { api, orderPathEvents } from './order-events';
import { npmStartEnvironment, waitUntilReady, type ServiceProcess } from './service-processes';

const ROOT = join(__dirname, '..', '..');
const CUSTOMERS = 3000;
/** 250 customers, 750 events: the batches the issue posted. */
const CUSTOMERS_PER_BATCH = 250;
const KILLS = 3;
const KEY = 'dev-key';

interface Email {
  template: string;
  status: string;
  reason: string | null;
}

/**
 * Issue 17 as a test: the README's `npm start` (one process, embedded Postgres, the in-process
 * bus) fed 3,000 customers (registration and two orders each, 9,000 events) and killed with
 * SIGKILL, process group and Postgres together, three times during the stream: right after a
 * batch was answered, with a batch in flight (posted again after the restart, as a retailer
 * retries), and right after the last answer. Every customer must end up with exactly one
 * second_order_email: nothing that was in flight between services may be lost, or done twice.
 * A kill while delivery has messages handed over to the provider leaves those `failed` with
 * `outcome_unknown` (delivery never sends twice); every other one must be `sent`.
 */
describe('npm start killed with SIGKILL during a stream of events', () => {
  let dataDir: string;
  let port: number;
  let platform: ServiceProcess | undefined;
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `c-crash-${i}`);
  const batches = Array.from({ length: CUSTOMERS / CUSTOMERS_PER_BATCH }, (_, b) =>
    customers
      .slice(b * CUSTOMERS_PER_BATCH, (b + 1) * CUSTOMERS_PER_BATCH)
      .flatMap((id) => orderPathEvents(id)),
  );

  beforeAll(async () => {
    // Its own embedded data directory (the directory itself, not a child: as root the postgres
    // user must reach it), kept across the restarts as `.data/postgres` is.
    dataDir = await mkdtemp(join(tmpdir(), 'mmp-npm-start-crash-'));
    port = await findFreePort();
  });

  afterAll(async () => {
    if (platform) await killGroup(platform);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** `npm start` as the README runs it: no DATABASE_URL, no KAFKA_BROKERS, the development key. */
  async function start(): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/platform/src/main.ts'], {
      cwd: ROOT,
      env: npmStartEnvironment(port, dataDir),
      // Its own process group, so that one kill takes the platform and its Postgres at once.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = { name: 'platform', url: `http://127.0.0.1:${port}`, process: child, output };
    await waitUntilReady(started, 180_000);
    return started;
  }

  async function killGroup(running: ServiceProcess): Promise<void> {
    if (running.process.exitCode !== null || running.process.signalCode !== null) return;
    const exited = new Promise((resolve) => running.process.once('exit', resolve));
    process.kill(-(running.process.pid ?? 0), 'SIGKILL');
    await exited;
  }

  async function post(running: ServiceProcess, batch: number) {
    return api(running.url, '/v1/events', { method: 'POST', body: { batch: batches[batch] }, key: KEY });
  }

  async function postAccepted(running: ServiceProcess, batch: number): Promise<void> {
    const answer = await post(running, batch);
    expect(answer.status).toBe(202);
    expect(answer.body.rejected).toEqual([]);
    expect(answer.body.accepted + answer.body.duplicates).toBe(batches[batch]?.length);
  }

  /** The second_order_email messages of each customer that delivery decided, read CONCURRENCY at a time. */
  async function emailsOf(running: ServiceProcess, ids: readonly string[]): Promise<Map<string, Email[]>> {
    const emails = new Map<string, Email[]>();
    const queue = [...ids];
    const CONCURRENCY = 8;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          const { status, body } = await api(running.url, `/v1/customers/${id}/messages`, { key: KEY });
          expect(status).toBe(200);
          const messages: Email[] = body;
          emails.set(
            id,
            messages.filter((m) => m.template === 'second_order_email' && m.status !== 'queued'),
          );
        }
      }),
    );
    return emails;
  }

  it(
    'gives every customer exactly one second_order_email: 0 missing, 0 duplicated',
    async () => {
      platform = await start();
      for (let batch = 0; batch < 4; batch += 1) await postAccepted(platform, batch);
      // 1: right after an answer, as the issue did.
      await killGroup(platform);

      platform = await start();
      for (let batch = 4; batch < 7; batch += 1) await postAccepted(platform, batch);
      // 2: with a batch in flight; the retailer sees no answer and posts it again.
      const inFlight = post(platform, 7).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await killGroup(platform);
      await inFlight;

      platform = await start();
      for (let batch = 7; batch < batches.length; batch += 1) await postAccepted(platform, batch);
      // 3: right after the last answer.
      await killGroup(platform);

      const running = await start();
      platform = running;
      let missing = [...customers];
      await eventually(
        async () => {
          const emails = await emailsOf(running, missing);
          missing = missing.filter((id) => (emails.get(id) ?? []).length === 0);
          expect({ missing: missing.length }).toEqual({ missing: 0 });
        },
        { timeoutMs: 8 * 60_000, intervalMs: 2000 },
      );

      const emails = await emailsOf(running, customers);
      const count = (which: (list: Email[]) => boolean) =>
        customers.filter((id) => which(emails.get(id) ?? [])).length;
      expect({
        missing: count((list) => list.length === 0),
        duplicated: count((list) => list.length > 1),
      }).toEqual({ missing: 0, duplicated: 0 });
      // Sent or, where a kill fell between delivery's handover and the provider's answer, failed as
      // outcome_unknown and never sent twice: delivery's own policy on a crash, not the bus's.
      const outcomes = customers.flatMap((id) =>
        (emails.get(id) ?? []).map((m) => `${m.status}/${m.reason}`),
      );
      expect(
        [...new Set(outcomes)].filter((o) => o !== 'sent/null' && o !== 'failed/outcome_unknown'),
      ).toEqual([]);
      // Delivery hands messages over a chunk at a time: each kill strands at most one chunk.
      expect(outcomes.filter((o) => o === 'failed/outcome_unknown').length).toBeLessThanOrEqual(
        KILLS * HANDOVER_CHUNK,
      );
    },
    20 * 60_000,
  );
});
