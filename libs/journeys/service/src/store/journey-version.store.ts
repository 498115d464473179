import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Every version of every journey (`journeys.journey_versions`): instances finish on the version they entered.
 * A version's row is written once, by the first batch that enters it: this process remembers the
 * versions it saw committed (rows are never deleted), so the batches after it, all on the same
 * program, skip the statement instead of sending the definitions again each time.
 */
@Injectable()
export class JourneyVersionStore {
  /** `key` NUL `version` of the versions known to be in the table. */
  private readonly stored = new Set<string>();

  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /**
   * Writes the versions not known to be stored, in `tx`. Answers what to call once `tx` has
   * committed: only then are they known to be there (a rolled-back batch writes them again).
   */
  async saveVersions(
    tx: EntityManager,
    journeys: readonly { key: string; version: string; definition: JourneyDefinition }[],
    now: Date,
  ): Promise<() => void> {
    const unknown = journeys.filter((j) => !this.stored.has(versionKey(j)));
    if (unknown.length === 0) return () => undefined;
    await runSql(
      tx,
      `INSERT INTO journeys.journey_versions (journey_key, version, definition, created_at)
       SELECT k, v, d, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(k, v, d)
       ON CONFLICT (journey_key, version) DO NOTHING`,
      [
        unknown.map((j) => j.key),
        unknown.map((j) => j.version),
        unknown.map((j) => JSON.stringify(j.definition)),
        now,
      ],
    );
    return () => {
      for (const journey of unknown) this.stored.add(versionKey(journey));
    };
  }
}

function versionKey(journey: { key: string; version: string }): string {
  return `${journey.key}\u0000${journey.version}`;
}
