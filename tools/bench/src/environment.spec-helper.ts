import type { PostgresSettings } from './environment';

/** A durable Postgres 18 as the bench reports it, for specs. */
export const DURABLE_SETTINGS: PostgresSettings = {
  server_version: '18.0',
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  wal_level: 'replica',
  shared_buffers: '128MB',
  max_wal_size: '1GB',
};
