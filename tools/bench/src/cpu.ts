import { readdirSync, readFileSync } from 'node:fs';
import { withRatio, type Figure } from './figures';

/**
 * Who spent the machine's CPU during a case, from /proc (Linux; elsewhere nothing is reported).
 * Events per second on a small shared machine move with its neighbours (the raw ceiling has
 * varied 2x between runs here); CPU time per event moves far less, and it says where the time
 * goes: the code under test on the main thread, the runtime's helper threads (GC, compiler,
 * libuv), the load driver's thread, Postgres and the Kafka mock.
 */
export const CPU_SPENDERS = ['service', 'runtime', 'driver', 'postgres', 'kafka'] as const;
export type CpuSpender = (typeof CPU_SPENDERS)[number];

export interface CpuSample {
  /** Milliseconds of CPU (user + system) per spender since it started, of the threads and processes alive now. */
  readonly ms: Readonly<Record<CpuSpender, number>>;
  /** Every CPU of the machine, busy milliseconds since boot. */
  readonly machineMs: number;
  /** The processes billed (postgres, kcat) one by one: cpuPerEvent needs them to count those that ended. */
  readonly processes: readonly ProcessReading[];
}

/** One billed process as /proc showed it. */
export interface ProcessReading {
  readonly spender: CpuSpender;
  readonly pid: number;
  readonly ppid: number;
  /** When it started (ticks since boot): with the pid, names the process even if its pid is reused. */
  readonly startTime: string;
  /** Its own CPU milliseconds (user + system). */
  readonly ms: number;
  /** CPU milliseconds of its children that ended and that it reaped (cutime + cstime). */
  readonly childMs: number;
}

/** CPU per event of a stretch of a case, in microseconds, by spender and in all. */
export interface CpuPerEvent {
  readonly us: Readonly<Record<CpuSpender, number>>;
  readonly machineUs: number;
  /**
   * The part of `us.postgres` spent by processes that ended during the stretch (a pool closing a
   * backend): /proc no longer lists them at its end, so it is read from the postmaster that reaped them.
   */
  readonly postgresEndedUs?: number;
}

/** What /proc says: one reading of the proc files, for sampleCpu (tests pass fixtures). */
export interface ProcReader {
  /** This process's threads: name (comm) and the contents of their stat file, main thread first. */
  ownThreads(): { name: string; stat: string }[];
  /** Every other process: name (comm) and the contents of its stat file. */
  processes(): { name: string; stat: string }[];
  /** The contents of /proc/stat. */
  machineStat(): string;
  /** Clock ticks per second (USER_HZ): 100 on Linux. */
  readonly ticksPerSecond: number;
}

/**
 * User plus system ticks of a stat line. The name field is in parentheses and may hold spaces
 * and parentheses itself, so fields are counted after the last `)`: utime and stime are
 * fields 14 and 15 of proc(5), the 12th and 13th after it.
 */
export function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/** Busy ticks of all CPUs from /proc/stat's first line: everything but idle and iowait. */
export function machineBusyTicks(procStat: string): number {
  const cpu = procStat.split('\n')[0]?.trim().split(/\s+/) ?? [];
  if (cpu[0] !== 'cpu') throw new Error(`unexpected /proc/stat first line: ${cpu.join(' ')}`);
  // user nice system idle iowait irq softirq steal ...: guest time is already inside user.
  const [user, nice, system, , , irq, softirq, steal] = cpu.slice(1, 9).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
}

/** Which spender a thread of this process is: the main thread runs the code under test. */
function threadSpender(name: string, isMain: boolean): CpuSpender {
  if (isMain) return 'service';
  // worker_threads are named WorkerThread: the bench runs only its driver in one.
  return name === 'WorkerThread' ? 'driver' : 'runtime';
}

/** Other processes billed by name: the Postgres server's processes and the kcat mock broker. */
const PROCESS_SPENDERS: Readonly<Record<string, CpuSpender>> = { postgres: 'postgres', kcat: 'kafka' };

/** A record with one value per spender. */
function bySpender(value: (spender: CpuSpender) => number): Record<CpuSpender, number> {
  return {
    service: value('service'),
    runtime: value('runtime'),
    driver: value('driver'),
    postgres: value('postgres'),
    kafka: value('kafka'),
  };
}

/** The pid and parent pid of a stat line (fields 1 and 4 of proc(5)). */
export function statPids(stat: string): { pid: number; ppid: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(stat.slice(0, stat.indexOf(' '))), ppid: Number(fields[1] ?? 0) };
}

/**
 * Ticks of a process's children that ended and that it waited for (cutime + cstime, fields 16
 * and 17 of proc(5)): the kernel adds a child's whole CPU time there when its parent reaps it.
 */
export function statChildTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13] ?? 0) + Number(fields[14] ?? 0);
}

/** A process's start time (field 22 of proc(5)). */
function statStartTime(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

let postgresServerPid: number | undefined;

/**
 * Bills to `postgres` only the run's own server: its postmaster and the processes it forked.
 * On a shared machine other people's Postgres servers would otherwise count as the run's.
 */
export function countPostgresServer(postmasterPid: number | undefined): void {
  postgresServerPid = postmasterPid;
}

export function sampleCpu(proc: ProcReader, postgresServer = postgresServerPid): CpuSample {
  const ticks = bySpender(() => 0);
  proc.ownThreads().forEach((thread, index) => {
    ticks[threadSpender(thread.name, index === 0)] += statTicks(thread.stat);
  });
  const toMs = (count: number): number => (count * 1000) / proc.ticksPerSecond;
  const processes: ProcessReading[] = [];
  for (const process of proc.processes()) {
    const spender = PROCESS_SPENDERS[process.name];
    if (!spender) continue;
    const { pid, ppid } = statPids(process.stat);
    if (spender === 'postgres' && postgresServer !== undefined) {
      if (pid !== postgresServer && ppid !== postgresServer) continue;
    }
    ticks[spender] += statTicks(process.stat);
    processes.push({
      spender,
      pid,
      ppid,
      startTime: statStartTime(process.stat),
      ms: toMs(statTicks(process.stat)),
      childMs: toMs(statChildTicks(process.stat)),
    });
  }
  return {
    ms: bySpender((spender) => toMs(ticks[spender])),
    machineMs: toMs(machineBusyTicks(proc.machineStat())),
    processes,
  };
}

/**
 * CPU milliseconds each spender's processes spent between two samples, those that ended in
 * between included. A process alive at the end counts what it spent since the first sample (all
 * of it if it started later). One that ended is not in /proc any more: its parent, when it
 * reaped it, got its whole CPU time in its children's time, so a billed process whose parent is
 * not billed (the postmaster) adds what its children's time grew by, and each billed process that
 * ended takes off what it had spent before the first sample. A Postgres backend a pool closes
 * during a run (an idle timeout) used to count minus what it had spent before the run, and one
 * opened and closed within the run not at all.
 */
function processesSpent(
  before: readonly ProcessReading[],
  after: readonly ProcessReading[],
): { ms: Record<CpuSpender, number>; endedMs: Record<CpuSpender, number> } {
  const key = (reading: ProcessReading): string => `${reading.pid}@${reading.startTime}`;
  const earlier = new Map(before.map((reading) => [key(reading), reading]));
  const later = new Map(after.map((reading) => [key(reading), reading]));
  const ms = bySpender(() => 0);
  const endedMs = bySpender(() => 0);
  /** Billed processes alive in both samples whose parent is not billed: they reap the others. */
  const reapers = new Map<number, ProcessReading>();
  const billedPids = new Set(after.map((reading) => reading.pid));
  for (const reading of after) {
    const first = earlier.get(key(reading));
    ms[reading.spender] += reading.ms - (first?.ms ?? 0);
    if (first && !billedPids.has(reading.ppid)) {
      reapers.set(reading.pid, reading);
      const reaped = reading.childMs - first.childMs;
      ms[reading.spender] += reaped;
      endedMs[reading.spender] += reaped;
    }
  }
  for (const reading of before) {
    if (later.has(key(reading))) continue;
    // Ended: its reaper's children's time holds all of it. One whose parent is not billed (no
    // reaper seen) is left out rather than counted at minus what it spent before.
    if (!reapers.has(reading.ppid)) continue;
    ms[reading.spender] -= reading.ms;
    endedMs[reading.spender] -= reading.ms;
  }
  return { ms, endedMs };
}

export function cpuPerEvent(before: CpuSample, after: CpuSample, events: number): CpuPerEvent {
  const per = (ms: number): number => (ms * 1000) / events;
  const processes = processesSpent(before.processes, after.processes);
  const threadMs = (spender: CpuSpender): number =>
    spender === 'postgres' || spender === 'kafka'
      ? processes.ms[spender]
      : after.ms[spender] - before.ms[spender];
  return {
    us: bySpender((spender) => per(threadMs(spender))),
    machineUs: per(after.machineMs - before.machineMs),
    postgresEndedUs: per(processes.endedMs.postgres),
  };
}

/** One line for the log: `service 80.0, runtime 20.0, ...; whole machine 190.0 (µs of CPU per event)`. */
export function describeCpu(cpu: CpuPerEvent): string {
  const parts = CPU_SPENDERS.map((spender) => `${spender} ${cpu.us[spender].toFixed(1)}`);
  const ended = cpu.postgresEndedUs
    ? ` (postgres processes that ended meanwhile ${cpu.postgresEndedUs.toFixed(1)})`
    : '';
  return `${parts.join(', ')}${ended}; whole machine ${cpu.machineUs.toFixed(1)} (µs of CPU per event)`;
}

/** The live /proc, or undefined where there is none (macOS, Windows): then no CPU figures. */
export function procReader(): ProcReader | undefined {
  try {
    readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      // A thread or process that ended between listing and reading.
      return undefined;
    }
  };
  const entry = (dir: string): { name: string; stat: string }[] => {
    const stat = read(`${dir}/stat`);
    return stat === undefined ? [] : [{ name: (read(`${dir}/comm`) ?? '').trim(), stat }];
  };
  return {
    ticksPerSecond: 100,
    ownThreads: () => {
      const pid = String(process.pid);
      const others = readdirSync('/proc/self/task').filter((tid) => tid !== pid);
      return [pid, ...others].flatMap((tid) => entry(`/proc/self/task/${tid}`));
    },
    processes: () =>
      readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name) && name !== String(process.pid))
        .flatMap((pid) => entry(`/proc/${pid}`)),
    machineStat: () => read('/proc/stat') ?? '',
  };
}

const liveProc = procReader() ?? null;

/**
 * Runs `work` and hands back its result with what it cost per event: `cpu(events)` divides the
 * CPU spent while it ran (warmups included, so pass every event it moved). Undefined without /proc
 * (`proc` null).
 */
export async function measureCpu<T>(
  work: () => Promise<T>,
  proc: ProcReader | null = liveProc,
): Promise<{ result: T; cpu(events: number): CpuPerEvent | undefined }> {
  const before = proc && sampleCpu(proc);
  const result = await work();
  const after = proc && sampleCpu(proc);
  return {
    result,
    cpu: (events) => (before && after ? cpuPerEvent(before, after, events) : undefined),
  };
}

/** What the system under test spent per event: its thread, the runtime's threads and Postgres; not the load driver or the broker. */
export function systemCpu(cpu: CpuPerEvent): number {
  return cpu.us.service + cpu.us.runtime + cpu.us.postgres;
}

/**
 * The figure of a case's system CPU per event (none without /proc), its ratio to the raw
 * ceiling's, and the whole breakdown in the log.
 */
export function cpuFigure(
  context: { log(message: string): void; figure(name: string): Figure | undefined },
  name: string,
  cpu: CpuPerEvent | undefined,
  baselineName?: string,
): Figure[] {
  if (!cpu) return [];
  context.log(`${name}: ${describeCpu(cpu)}`);
  const baseline = baselineName === undefined ? undefined : context.figure(baselineName);
  return [withRatio({ name, value: systemCpu(cpu), unit: 'µs CPU/event' }, baseline)];
}
