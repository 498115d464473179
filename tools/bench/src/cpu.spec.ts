import {
  cpuFigure,
  cpuPerEvent,
  machineBusyTicks,
  measureCpu,
  sampleCpu,
  statTicks,
  type ProcReader,
} from './cpu';

/** A proc(5) stat line with the given utime and stime (fields 14 and 15). */
const stat = (pid: number, comm: string, utime: number, stime: number, ppid = 1, cutime = 0): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} 0 20 0 1 0 100 0 0`;

/** /proc as seen at one moment: own threads (main first), other processes, machine busy ticks. */
function procAt(tick: {
  main: number;
  gc: number;
  driver: number;
  postgres: number[];
  kcat: number;
  machine: number;
}): ProcReader {
  return {
    ticksPerSecond: 100,
    ownThreads: () => [
      { name: 'MainThread', stat: stat(10, 'MainThread', tick.main, 0) },
      { name: 'V8Worker', stat: stat(11, 'V8Worker', tick.gc, 0) },
      { name: 'WorkerThread', stat: stat(12, 'WorkerThread', tick.driver - 1, 1) },
    ],
    processes: () => [
      ...tick.postgres.map((ticks, i) => ({ name: 'postgres', stat: stat(20 + i, 'postgres', ticks, 0) })),
      { name: 'kcat', stat: stat(30, 'kcat', tick.kcat, 0) },
      { name: 'bash', stat: stat(31, 'bash', 500, 500) },
    ],
    machineStat: () => `cpu  ${tick.machine} 0 0 900000 50 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\n`,
  };
}

describe('CPU accounting from /proc', () => {
  it('reads utime + stime after the name, even a name with spaces and parentheses', () => {
    expect(statTicks(stat(7, 'odd (name) x', 123, 45))).toBe(168);
  });

  it('counts every busy column of /proc/stat but idle and iowait', () => {
    expect(machineBusyTicks('cpu  10 2 30 5000 70 4 5 6 0 0\ncpu0 ...')).toBe(10 + 2 + 30 + 4 + 5 + 6);
    expect(() => machineBusyTicks('intr 1 2 3')).toThrow(/unexpected \/proc\/stat/);
  });

  it('bills the main thread to the service, WorkerThread to the driver, other threads to the runtime, and postgres and kcat processes to themselves', () => {
    const sample = sampleCpu(
      procAt({ main: 250, gc: 40, driver: 60, postgres: [100, 30], kcat: 7, machine: 1000 }),
    );

    expect(sample).toMatchObject({
      ms: { service: 2500, runtime: 400, driver: 600, postgres: 1300, kafka: 70 },
      machineMs: 10000,
    });
    expect(sample.processes.map((p) => [p.spender, p.pid, p.ms])).toEqual([
      ['postgres', 20, 1000],
      ['postgres', 21, 300],
      ['kafka', 30, 70],
    ]);
  });

  it("bills to postgres only the run's own server and its children once it is known", () => {
    const proc: ProcReader = {
      ...procAt({ main: 1, gc: 0, driver: 1, postgres: [], kcat: 0, machine: 10 }),
      processes: () => [
        { name: 'postgres', stat: stat(40, 'postgres', 5, 0) },
        { name: 'postgres', stat: stat(41, 'postgres', 7, 0, 40) },
        { name: 'postgres', stat: stat(50, 'postgres', 900, 0) },
        { name: 'postgres', stat: stat(51, 'postgres', 800, 0, 50) },
      ],
    };

    expect(sampleCpu(proc, 40).ms.postgres).toBe(120);
    expect(sampleCpu(proc, undefined).ms.postgres).toBe(17_120);
  });

  it('divides what each spent between two samples by the events moved', () => {
    const before = sampleCpu(
      procAt({ main: 100, gc: 10, driver: 20, postgres: [50], kcat: 5, machine: 500 }),
    );
    const after = sampleCpu(
      procAt({ main: 300, gc: 30, driver: 40, postgres: [150], kcat: 6, machine: 900 }),
    );

    // 2000 ms of service CPU over 10,000 events is 200 µs each.
    expect(cpuPerEvent(before, after, 10_000)).toEqual({
      us: { service: 200, runtime: 20, driver: 20, postgres: 100, kafka: 1 },
      machineUs: 400,
      postgresEndedUs: 0,
    });
  });

  it('counts Postgres backends that ended between the samples from what the postmaster reaped, and those that started and ended in between', () => {
    // The postmaster (40) reaps its backends: their whole CPU time goes into its cutime.
    const at = (postmaster: { cutime: number }, backends: [pid: number, ticks: number][]): ProcReader => ({
      ...procAt({ main: 1, gc: 0, driver: 1, postgres: [], kcat: 0, machine: 10 }),
      processes: () => [
        { name: 'postgres', stat: stat(40, 'postgres', 10, 0, 1, postmaster.cutime) },
        ...backends.map(([pid, ticks]) => ({ name: 'postgres', stat: stat(pid, 'postgres', ticks, 0, 40) })),
      ],
    });
    // Before: backends 41 (300 ticks, from the migrations) and 42 (100). In between, 41 spends
    // 20 more and closes (320 reaped); 43 opens, spends 50 and closes; 42 spends 30.
    const before = sampleCpu(
      at({ cutime: 0 }, [
        [41, 300],
        [42, 100],
      ]),
      40,
    );
    const after = sampleCpu(at({ cutime: 320 + 50 }, [[42, 130]]), 40);

    // 20 + 50 + 30 ticks = 1000 ms over 1000 events; reading only live backends gave 30 - 300 ticks.
    expect(cpuPerEvent(before, after, 1000)).toMatchObject({
      us: { postgres: 1000 },
      postgresEndedUs: 700,
    });
  });

  it('leaves out a process that ended when no billed process reaped it, rather than counting it below zero', () => {
    const at = (processes: { name: string; stat: string }[]): ProcReader => ({
      ...procAt({ main: 1, gc: 0, driver: 1, postgres: [], kcat: 0, machine: 10 }),
      processes: () => processes,
    });
    const before = sampleCpu(at([{ name: 'kcat', stat: stat(30, 'kcat', 500, 0) }]));
    const after = sampleCpu(at([{ name: 'kcat', stat: stat(31, 'kcat', 7, 0) }]));

    // 31 started in between: all of its 7 ticks count; 30 ended unseen: nothing.
    expect(cpuPerEvent(before, after, 1000).us.kafka).toBe(70);
  });

  it('measures around the work, and gives the system figure with its ratio to the baseline', async () => {
    const readings = [
      procAt({ main: 100, gc: 10, driver: 20, postgres: [50], kcat: 5, machine: 500 }),
      procAt({ main: 300, gc: 30, driver: 40, postgres: [150], kcat: 6, machine: 900 }),
    ];
    let reads = 0;
    const proc: ProcReader = {
      ticksPerSecond: 100,
      ownThreads: () => readings[reads]!.ownThreads(),
      processes: () => readings[reads]!.processes(),
      machineStat: () => readings[reads++]!.machineStat(),
    };
    const { result, cpu } = await measureCpu(async () => 'done', proc);
    const logged: string[] = [];
    const figures = cpuFigure(
      { log: (line) => logged.push(line), figure: () => ({ name: 'base', value: 80, unit: 'µs CPU/event' }) },
      'case: CPU per event',
      cpu(10_000),
      'base',
    );

    expect(result).toBe('done');
    // service 200 + runtime 20 + postgres 100; the driver and the broker are the load, not the system.
    expect(figures).toEqual([{ name: 'case: CPU per event', value: 320, unit: 'µs CPU/event', ratio: 4 }]);
    expect(logged).toEqual([
      'case: CPU per event: service 200.0, runtime 20.0, driver 20.0, postgres 100.0, kafka 1.0; whole machine 400.0 (µs of CPU per event)',
    ]);
  });

  it('reports nothing where there is no /proc', async () => {
    const { cpu } = await measureCpu(async () => undefined, null);

    expect(cpuFigure({ log: () => undefined, figure: () => undefined }, 'x', cpu(100))).toEqual([]);
  });
});
