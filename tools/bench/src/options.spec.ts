import { readOptions } from './options';

describe('readOptions', () => {
  it('has defaults for everything', () => {
    const options = readOptions({});
    expect(options.out).toBeUndefined();
    expect(options.cases).toBeUndefined();
    expect(options.rawEvents).toBeGreaterThan(0);
    expect(options.pathEvents).toBeGreaterThan(0);
    expect(options.pathWindow).toBeGreaterThanOrEqual(options.pathChunkCustomers);
    expect(options.latencyRate).toBeGreaterThan(0);
    expect(options.postgresMode).toBe('durable');
  });

  it('reads sizes, the case list and the output path', () => {
    const options = readOptions({
      BENCH_OUT: ' out/bench.json ',
      BENCH_CASES: 'raw-ceiling, order-path,',
      BENCH_RAW_EVENTS: '1_000_000',
      BENCH_PATH_EVENTS: '9000',
      BENCH_LATENCY_CUSTOMERS: '0',
      BENCH_LATENCY_RATE: '20',
      BENCH_PHASE_TIMEOUT_S: '5',
      BENCH_POSTGRES: 'fast',
    });
    expect(options).toMatchObject({
      out: 'out/bench.json',
      cases: ['raw-ceiling', 'order-path'],
      rawEvents: 1_000_000,
      pathEvents: 9000,
      latencyCustomers: 0,
      latencyRate: 20,
      stallTimeoutMs: 5000,
      postgresMode: 'fast',
    });
  });

  it('treats blank settings as unset', () => {
    expect(readOptions({ BENCH_OUT: '  ', BENCH_RAW_EVENTS: '' })).toMatchObject({
      out: undefined,
      rawEvents: readOptions({}).rawEvents,
    });
  });

  it('names the setting that is wrong', () => {
    expect(() => readOptions({ BENCH_RAW_EVENTS: 'lots' })).toThrow(
      'BENCH_RAW_EVENTS must be an integer, got lots',
    );
    expect(() => readOptions({ BENCH_PATH_EVENTS: '0' })).toThrow(
      'BENCH_PATH_EVENTS must be a positive integer',
    );
    expect(() => readOptions({ BENCH_PATH_WARMUP: '-1' })).toThrow(
      'BENCH_PATH_WARMUP must be 0 or a positive integer',
    );
    expect(() => readOptions({ BENCH_LATENCY_RATE: '2.5' })).toThrow(
      'BENCH_LATENCY_RATE must be an integer, got 2.5',
    );
    expect(() => readOptions({ BENCH_POSTGRES: 'unsafe' })).toThrow(
      'BENCH_POSTGRES must be durable or fast, got unsafe',
    );
  });
});
