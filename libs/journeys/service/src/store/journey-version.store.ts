import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** Every version of every journey (`journeys.journey_versions`): instances finish on the version they entered. */
@Injectable()
export class JourneyVersionStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  async saveVersions(
    tx: EntityManager,
    journeys: readonly { key: string; version: string; definition: JourneyDefinition }[],
    now: Date,
  ): Promise<void> {
    if (journeys.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.journey_versions (journey_key, version, definition, created_at)
       SELECT k, v, d, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(k, v, d)
       ON CONFLICT (journey_key, version) DO NOTHING`,
      [
        journeys.map((j) => j.key),
        journeys.map((j) => j.version),
        journeys.map((j) => JSON.stringify(j.definition)),
        now,
      ],
    );
  }
}
