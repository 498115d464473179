import type { ConsumedRecord } from './record-codec';

/**
 * The records this process appended lately, by topic, partition and offset, so that its own
 * consumers (in `npm start`, all of them) read what was just published without a round trip,
 * and without decoding it again. Only committed records are added, so a read returns only what
 * the database holds too; a read returns a run of consecutive offsets from the one asked for and
 * stops at the first offset this process did not append (another process's), which the caller
 * then reads from the database. Bounded per partition, oldest first; a partition is also trimmed
 * once every consumer here committed past its records.
 */
export class RecentRecords {
  private readonly partitions = new Map<string, Map<number, ConsumedRecord>>();

  constructor(private readonly maxPerPartition: number) {}

  add(records: readonly ConsumedRecord[]): void {
    for (const record of records) {
      const log = this.log(record.topic, record.partition, true);
      log.set(Number(record.offset), record);
      if (log.size > this.maxPerPartition) {
        const oldest = log.keys().next();
        if (!oldest.done) log.delete(oldest.value);
      }
    }
  }

  /** Up to `limit` records from offset `from` on, consecutive; empty when `from` itself is not here. */
  read(topic: string, partition: number, from: number, limit: number): ConsumedRecord[] {
    const log = this.log(topic, partition, false);
    const run: ConsumedRecord[] = [];
    for (let offset = from; run.length < limit; offset += 1) {
      const record = log?.get(offset);
      if (!record) break;
      // Each group gets headers of its own, as from the database: a handler may change them.
      run.push({ ...record, headers: { ...record.headers } });
    }
    return run;
  }

  /** Forgets a partition's records below `offset`: every consumer in this process is past them. */
  trim(topic: string, partition: number, offset: number): void {
    const log = this.log(topic, partition, false);
    if (!log) return;
    for (const kept of log.keys()) {
      if (kept >= offset) break;
      log.delete(kept);
    }
  }

  clear(): void {
    this.partitions.clear();
  }

  private log(topic: string, partition: number, create: true): Map<number, ConsumedRecord>;
  private log(topic: string, partition: number, create: false): Map<number, ConsumedRecord> | undefined;
  private log(topic: string, partition: number, create: boolean): Map<number, ConsumedRecord> | undefined {
    const key = `${partition}:${topic}`;
    let log = this.partitions.get(key);
    if (!log && create) {
      log = new Map();
      this.partitions.set(key, log);
    }
    return log;
  }
}
