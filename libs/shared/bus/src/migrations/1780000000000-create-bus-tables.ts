import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateBusTables1780000000000 implements MigrationInterface {
  name = 'CreateBusTables1780000000000';

  async up(db: QueryRunner): Promise<void> {
    // The next offset of each partition: publishers reserve offsets by updating its row, so the
    // row lock orders concurrent publishers and a partition's offsets become visible in order
    // (a consumer can never commit past an offset that is still being written).
    await db.query(`
      CREATE TABLE bus.partitions (
        topic       text NOT NULL,
        partition   int NOT NULL,
        next_offset bigint NOT NULL,
        CONSTRAINT partitions_pk PRIMARY KEY (topic, partition)
      )`);
    // json, not jsonb: headers are only stored and read back, and json keeps any string as given.
    await db.query(`
      CREATE TABLE bus.records (
        topic       text NOT NULL,
        partition   int NOT NULL,
        "offset"    bigint NOT NULL,
        key         text NOT NULL,
        value       text NOT NULL,
        headers     json NOT NULL,
        produced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT records_pk PRIMARY KEY (topic, partition, "offset")
      )`);
    // Records are appended in time order, so a BRIN index finds the expired ones for the cost
    // of a few pages per insert rather than a B-tree entry per record.
    await db.query(`CREATE INDEX records_produced_at ON bus.records USING brin (produced_at)`);
    await db.query(`
      CREATE TABLE bus.group_offsets (
        group_id    text NOT NULL,
        topic       text NOT NULL,
        partition   int NOT NULL,
        next_offset bigint NOT NULL,
        CONSTRAINT group_offsets_pk PRIMARY KEY (group_id, topic, partition)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE bus.group_offsets`);
    await db.query(`DROP TABLE bus.records`);
    await db.query(`DROP TABLE bus.partitions`);
  }
}
