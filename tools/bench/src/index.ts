// For later benchmark cases and tooling that reads BENCH_OUT; `npm run bench` starts at main.ts.
export type { BenchCase, BenchContext } from './bench-case';
export { formatTable, toReport, type BenchReport, type Figure } from './figures';
export { readOptions, type BenchOptions } from './options';
export { BENCH_CASES } from './cases';
