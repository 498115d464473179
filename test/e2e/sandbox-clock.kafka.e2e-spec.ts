import { DateTime } from 'luxon';
import {
  eventually,
  moveSandboxClock,
  readSandboxClock,
  useTestDatabase,
  waitForSandboxClock,
} from '../support';
import { api } from './order-events';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from './service-processes';

/**
 * The sandbox clock with services as separate OS processes over the Kafka protocol (the kcat
 * mock cluster, or KAFKA_BROKERS), as in docker compose: a move accepted by one process moves
 * every other, and a process that starts after it, or restarts after kill -9, comes up at it.
 */
describe('the sandbox clock, across service processes over Kafka', () => {
  const database = useTestDatabase();
  const services = new Map<'ingestion' | 'milestones', ServiceProcess>();
  const zone = 'America/New_York';
  const customerId = `c-clock-${Date.now()}`;
  /** Where the first test moves the clock: 09:00:30 on the customer's birthday, in their zone. */
  let moved: DateTime;

  const env = () => ({
    DATABASE_URL: database.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    API_KEYS: 'test-key',
    PROGRAM_DIR: 'program',
    SANDBOX: 'true',
    LOG_LEVEL: 'warn',
  });
  const url = (name: 'ingestion' | 'milestones'): string => {
    const service = services.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service.url;
  };
  const clockOf = async (name: 'ingestion' | 'milestones'): Promise<number> =>
    (await readSandboxClock(url(name), 'test-key')).getTime();

  beforeAll(async () => {
    // One after the other: on two cores, TypeScript processes started at once only slow each other.
    for (const name of ['ingestion', 'milestones'] as const) {
      services.set(name, await startServiceProcess(name, env()));
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map(stopServiceProcess));
  }, 60_000);

  it("moves the milestones process by a move posted to ingestion's, which then reaches the birthday", async () => {
    const start = DateTime.fromMillis(await clockOf('ingestion'), { zone });
    const birthday = start.plus({ days: 10 });
    moved = birthday.set({ hour: 9, minute: 0, second: 30, millisecond: 0 });
    const registered = await api(url('ingestion'), '/v1/events', {
      method: 'POST',
      body: {
        eventId: `reg-${customerId}`,
        type: 'customer.registered',
        occurredAt: start.toUTC().toISO(),
        customerId,
        traits: {
          email: 'ann@example.com',
          firstName: 'Ann',
          timezone: zone,
          birthday: birthday.toFormat('--MM-dd'),
        },
      },
    });
    expect(registered.status).toBe(202);
    // The milestones process has scheduled the birthday before the clock moves past it.
    const db = await database.connect();
    await eventually(
      async () => {
        const { rows } = await db.query(
          `SELECT 1 FROM milestones.schedule WHERE customer_id = $1 AND milestone_key = 'birthday'`,
          [customerId],
        );
        expect(rows).toHaveLength(1);
      },
      { timeoutMs: 30_000 },
    );
    expect(await clockOf('milestones')).toBeLessThan(moved.toMillis());

    const answer = await api(url('ingestion'), '/v1/sandbox/clock', {
      method: 'POST',
      body: { now: moved.toUTC().toISO() },
    });

    expect(answer).toEqual({ status: 200, body: { now: moved.toUTC().toISO() } });
    await waitForSandboxClock([url('milestones')], moved.toJSDate(), { apiKey: 'test-key' });
    const followed = await clockOf('milestones');
    // On the mover's time, not the wall time plus a few seconds of lag more or less.
    expect(Math.abs(followed - (await clockOf('ingestion')))).toBeLessThan(5_000);
    const milestones = await eventually(
      async () => {
        const res = await api(url('milestones'), `/v1/customers/${customerId}/milestones`);
        expect(res.body).toHaveLength(1);
        return res.body;
      },
      { timeoutMs: 30_000 },
    );
    expect(milestones).toEqual([
      { key: 'birthday', occurrence: String(birthday.year), reachedAt: expect.any(String) },
    ]);
  }, 120_000);

  it('brings a process restarted after kill -9 up at the moved clock, and follows moves posted to it', async () => {
    const killed = services.get('milestones');
    if (!killed) throw new Error('milestones is not running');
    const exited = new Promise((resolve) => killed.process.once('exit', resolve));
    killed.process.kill('SIGKILL');
    await exited;
    services.set('milestones', await startServiceProcess('milestones', env()));

    // Its first answer, not eventually: it read the moves before serving or doing any work.
    expect(await clockOf('milestones')).toBeGreaterThanOrEqual(moved.toMillis());

    const back = await api(url('milestones'), '/v1/sandbox/clock', {
      method: 'POST',
      body: { now: moved.minus({ hours: 1 }).toUTC().toISO() },
    });
    expect(back.status).toBe(409);
    expect(back.body.error).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/^the sandbox clock only moves forward: it is /),
    });

    // Through the restarted process this time, to both; answered once published.
    const nextDay = moved.plus({ days: 1 }).toJSDate();
    const answered = await moveSandboxClock([url('milestones'), url('ingestion')], nextDay, {
      apiKey: 'test-key',
    });
    expect(answered).toEqual(nextDay);
    expect(await clockOf('ingestion')).toBeGreaterThanOrEqual(nextDay.getTime());
    // The birthday stays reached once: the restart and the later move fired nothing again.
    const res = await api(url('milestones'), `/v1/customers/${customerId}/milestones`);
    expect(res.body).toHaveLength(1);
  }, 180_000);
});
