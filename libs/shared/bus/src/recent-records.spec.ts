import type { ConsumedRecord } from './record-codec';
import { RecentRecords } from './recent-records';

const record = (offset: number, partition = 0, topic = 't'): ConsumedRecord => ({
  topic,
  partition,
  offset: String(offset),
  key: 'k',
  value: `v${offset}`,
  headers: { h: String(offset) },
  timestamp: '0',
});
const offsets = (records: readonly ConsumedRecord[]) => records.map((r) => Number(r.offset));

describe('RecentRecords', () => {
  it('reads a run of consecutive offsets from the one asked for, up to the limit', () => {
    const recent = new RecentRecords(100);
    recent.add([0, 1, 2, 3, 4].map((offset) => record(offset)));

    expect(offsets(recent.read('t', 0, 1, 3))).toEqual([1, 2, 3]);
    expect(offsets(recent.read('t', 0, 3, 10))).toEqual([3, 4]);
    expect(recent.read('t', 0, 5, 10)).toEqual([]);
    expect(recent.read('t', 1, 0, 10)).toEqual([]);
    expect(recent.read('other', 0, 0, 10)).toEqual([]);
  });

  it('stops at an offset it does not hold (another process appended it), and holds nothing before the first', () => {
    const recent = new RecentRecords(100);
    recent.add([record(3), record(4), record(6)]);

    expect(offsets(recent.read('t', 0, 3, 10))).toEqual([3, 4]);
    expect(recent.read('t', 0, 5, 10)).toEqual([]);
    expect(recent.read('t', 0, 2, 10)).toEqual([]);
  });

  it('gives each reader headers of its own', () => {
    const recent = new RecentRecords(100);
    recent.add([record(0)]);
    const [first] = recent.read('t', 0, 0, 1);
    if (first) first.headers.h = 'changed';

    expect(recent.read('t', 0, 0, 1)[0]?.headers).toEqual({ h: '0' });
  });

  it('keeps at most its bound per partition, dropping the oldest, and forgets what is trimmed', () => {
    const recent = new RecentRecords(3);
    recent.add([0, 1, 2, 3, 4].map((offset) => record(offset)));
    recent.add([record(0, 1)]);

    expect(recent.read('t', 0, 1, 10)).toEqual([]);
    expect(offsets(recent.read('t', 0, 2, 10))).toEqual([2, 3, 4]);
    expect(offsets(recent.read('t', 1, 0, 10))).toEqual([0]);

    recent.trim('t', 0, 4);
    expect(recent.read('t', 0, 2, 10)).toEqual([]);
    expect(offsets(recent.read('t', 0, 4, 10))).toEqual([4]);
  });
});
