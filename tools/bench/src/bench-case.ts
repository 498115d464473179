import type { Kafka } from 'kafkajs';
import type { Driver } from './driver';
import type { Figure } from './figures';
import type { BenchOptions } from './options';

/**
 * What every benchmark case gets: the infrastructure of the run and a few helpers. Cases own
 * nothing shared: they make their own topics, consumer groups and databases through it, and
 * everything they register with onCleanup is undone at the end of the run, failed or not.
 */
export interface BenchContext {
  /** Unique per run: prefixes topics, groups and ids so a rerun on the same cluster never counts old records. */
  readonly runId: string;
  readonly options: BenchOptions;
  readonly kafka: { readonly brokers: readonly string[]; readonly source: string };
  readonly postgres: { readonly url: string; readonly source: string };
  /** A kafkajs client on the run's brokers, logging only errors (the mock's warnings are noise here). */
  kafkaClient(clientId: string): Kafka;
  /**
   * Runs the load side of the case (producers, consumers, checks) in a worker thread on the
   * run's brokers, so the code under test has the main thread to itself (see driver.ts).
   */
  runDriver<I, O>(driver: Driver<I, O>, input: I): Promise<O>;
  /** A fresh, empty database on the run's server; dropped when the run ends. Returns its URL. */
  createDatabase(): Promise<string>;
  /** Figures of the cases that ran before this one: for ratios against a baseline. */
  figure(name: string): Figure | undefined;
  /** Progress lines go to stderr, so that stdout carries only the table. */
  log(message: string): void;
  /** Runs after the case, last registered first, whether it succeeded or failed. */
  onCleanup(step: () => Promise<void>): void;
}

/** One benchmark: later issues add a case to the registry (cases/index.ts) and get the table and JSON for free. */
export interface BenchCase {
  /** For BENCH_CASES (`raw-ceiling`, `order-path`...). */
  readonly id: string;
  readonly description: string;
  run(context: BenchContext): Promise<Figure[]>;
}
