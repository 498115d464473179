import { InMemoryBus } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { SandboxClockTopic } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { SandboxClockSync } from './sandbox-clock-sync';

describe('SandboxClockSync', () => {
  /** One wall clock for every process, as on one host; tests move it by hand. */
  let wall: number;
  let bus: InMemoryBus;

  beforeEach(() => {
    wall = Date.parse('2029-06-09T12:00:00Z');
    bus = new InMemoryBus();
  });

  afterEach(async () => {
    await bus.stop();
  });

  /** A process: its own sandbox clock, synced over the shared bus. */
  function process_(): { clock: SandboxClock; sync: SandboxClockSync; woken: string[] } {
    const clock = new SandboxClock(() => wall);
    const woken: string[] = [];
    clock.onAdvance((now) => woken.push(now.toISOString()));
    const sync = new SandboxClockSync(clock, bus);
    sync.listen();
    return { clock, sync, woken };
  }

  it('moves every process, the mover first, and wakes their schedulers', async () => {
    const [ingestion, milestones, journeys] = [process_(), process_(), process_()];
    await bus.start();

    const answered = await ingestion.sync.moveTo(new Date('2029-06-10T13:05:00Z'));

    expect(answered.toISOString()).toBe('2029-06-10T13:05:00.000Z');
    // Answered after publishing: the move is on the topic before any process followed it.
    expect(bus.messagesOn(SandboxClockTopic.name)).toEqual([
      expect.objectContaining({
        key: 'clock',
        value: { schemaVersion: 1, now: '2029-06-10T13:05:00.000Z', wallTime: '2029-06-09T12:00:00.000Z' },
      }),
    ]);
    await bus.whenIdle();
    for (const process of [ingestion, milestones, journeys]) {
      expect(process.clock.now().toISOString()).toBe('2029-06-10T13:05:00.000Z');
      expect(process.woken).toEqual(['2029-06-10T13:05:00.000Z']);
    }
  });

  it('announces the move at its own instant, even when the wall clock ticks while it is made', async () => {
    const clock = new SandboxClock(() => wall++);
    const sync = new SandboxClockSync(clock, bus);
    await bus.start();

    await sync.moveTo(new Date('2029-06-10T13:05:00Z'));

    expect(bus.messagesOn(SandboxClockTopic.name).map((message) => message.value)).toEqual([
      { schemaVersion: 1, now: '2029-06-10T13:05:00.000Z', wallTime: '2029-06-09T12:00:00.000Z' },
    ]);
  });

  it('keeps processes together when the move reaches one late: it lands where the mover is now', async () => {
    const mover = process_();
    await mover.sync.moveTo(new Date('2029-06-10T13:05:00Z'));
    wall += 5_000;
    const late = process_();
    await bus.start();
    await bus.whenIdle();

    expect(late.clock.now().toISOString()).toBe('2029-06-10T13:05:05.000Z');
    expect(late.clock.now().toISOString()).toBe(mover.clock.now().toISOString());
  });

  it('brings a process started after the moves to the furthest one, not the last published', async () => {
    const running = process_();
    await bus.start();
    await running.sync.moveTo(new Date('2029-07-01T00:00:00Z'));
    // Accepted by a process the first move had not reached yet: published last, but behind.
    await bus.publish(SandboxClockTopic, [
      {
        key: 'clock',
        value: { schemaVersion: 1, now: '2029-06-20T00:00:00.000Z', wallTime: new Date(wall).toISOString() },
      },
    ]);
    await bus.whenIdle();
    wall += 60_000;

    const restarted = new SandboxClock(() => wall);
    await new SandboxClockSync(restarted, bus).catchUp();

    expect(restarted.now().toISOString()).toBe('2029-07-01T00:01:00.000Z');
    expect(running.clock.now().toISOString()).toBe('2029-07-01T00:01:00.000Z');
  });

  it('starts at the wall time when the clock was never moved', async () => {
    const fresh = new SandboxClock(() => wall);
    await new SandboxClockSync(fresh, bus).catchUp();
    expect(fresh.now().toISOString()).toBe('2029-06-09T12:00:00.000Z');
  });

  it('leaves a process whose clock is ahead where it is, without waking it', async () => {
    const [behind, ahead] = [process_(), process_()];
    ahead.clock.moveTo(new Date('2029-08-01T00:00:00Z'));
    ahead.woken.splice(0);
    await bus.start();

    await behind.sync.moveTo(new Date('2029-07-01T00:00:00Z'));
    await bus.whenIdle();

    expect(ahead.clock.now().toISOString()).toBe('2029-08-01T00:00:00.000Z');
    expect(ahead.woken).toEqual([]);
  });

  it('refuses a move back with a conflict and announces nothing', async () => {
    const mover = process_();
    await bus.start();
    await mover.sync.moveTo(new Date('2029-07-01T00:00:00Z'));

    const back = mover.sync.moveTo(new Date('2029-06-30T00:00:00Z'));

    await expect(back).rejects.toBeInstanceOf(AppError);
    await expect(back).rejects.toMatchObject({ code: 'conflict' });
    expect(bus.messagesOn(SandboxClockTopic.name)).toHaveLength(1);
  });

  it('answers unavailable when the move cannot be published, saying this process moved', async () => {
    const mover = process_();
    await bus.start();
    await bus.stop();

    await expect(mover.sync.moveTo(new Date('2029-07-01T00:00:00Z'))).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(
        /^this process's clock moved to 2029-07-01T00:00:00.000Z, but the move could not be announced to the other processes: /,
      ),
    });
    expect(mover.clock.now().toISOString()).toBe('2029-07-01T00:00:00.000Z');
  });
});
