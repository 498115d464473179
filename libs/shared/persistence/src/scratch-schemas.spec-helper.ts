import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

/**
 * This library's unit of isolation is the schema, so its specs share the provisioned database
 * and give every schema a name of its own (`ingestion_3f9a1c0d`), dropped after the file's last
 * test. (Specs elsewhere get a whole database from useTestDatabase in @mmp/test-harness, which
 * this library cannot import: the harness depends on it for the embedded Postgres.)
 */
export interface ScratchSchemas {
  /** The provisioned server's URL (DATABASE_URL, set by the integration global setup). */
  readonly url: string;
  /** A new schema name starting with `prefix`, dropped after the file's last test. */
  name(prefix: string): string;
}

export function useScratchSchemas(): ScratchSchemas {
  const created: string[] = [];
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run this spec through test/jest.config.js');

  afterAll(async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      for (const schema of created) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  return {
    url,
    name(prefix: string): string {
      const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
      created.push(schema);
      return schema;
    },
  };
}
