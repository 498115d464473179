import type { InstancePosition, StepRequests } from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** The console's reads of journeys' own data: where instances stand, per journey and step. */
@Injectable()
export class JourneyMapQuery {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  async positions(journeyKey: string): Promise<InstancePosition[]> {
    const rows = await queryRows<{
      journey_version: string;
      grp: InstancePosition['group'];
      status: InstancePosition['status'];
      step_index: number;
      exit_reason: string | null;
      converted: boolean;
      count: number;
    }>(
      this.db,
      `SELECT journey_version, grp, status, step_index, exit_reason, goal_reached_at IS NOT NULL AS converted,
              count(*)::int AS count
         FROM journeys.instances WHERE journey_key = $1
        GROUP BY 1, 2, 3, 4, 5, 6`,
      [journeyKey],
    );
    return rows.map((row) => ({
      journeyVersion: row.journey_version,
      group: row.grp,
      status: row.status,
      stepIndex: row.step_index,
      exitReason: row.exit_reason,
      converted: row.converted,
      count: row.count,
    }));
  }

  async requests(journeyKey: string): Promise<StepRequests[]> {
    const rows = await queryRows<{ step_id: string; reason: string | null; count: number }>(
      this.db,
      `SELECT o.payload ->> 'stepId' AS step_id, o.payload ->> 'suppressedReason' AS reason, count(*)::int AS count
         FROM journeys.outbox o JOIN journeys.instances i ON i.instance_id = o.instance_id
        WHERE i.journey_key = $1
        GROUP BY 1, 2`,
      [journeyKey],
    );
    return rows.map((row) => ({ stepId: row.step_id, suppressedReason: row.reason, count: row.count }));
  }

  /** Every stored version of the journey, newest first, with its definition and live instances. */
  async versions(
    journeyKey: string,
  ): Promise<{ version: string; createdAt: string; inFlight: number; definition: JourneyDefinition }[]> {
    const rows = await queryRows<{
      version: string;
      created_at: Date;
      definition: JourneyDefinition;
      in_flight: number;
    }>(
      this.db,
      `SELECT v.version, v.created_at, v.definition,
              (SELECT count(*)::int FROM journeys.instances i
                WHERE i.journey_key = v.journey_key AND i.journey_version = v.version
                  AND i.status IN ('active', 'waiting')) AS in_flight
         FROM journeys.journey_versions v WHERE v.journey_key = $1
        ORDER BY v.created_at DESC, v.version`,
      [journeyKey],
    );
    return rows.map((row) => ({
      version: row.version,
      createdAt: row.created_at.toISOString(),
      inFlight: row.in_flight,
      definition: row.definition,
    }));
  }

  /** Live instances per journey on a version other than the given one: they finish on theirs. */
  async inFlightOffVersion(versions: ReadonlyMap<string, string | null>): Promise<Map<string, number>> {
    const keys = [...versions.keys()];
    const rows = await queryRows<{ journey_key: string; count: number }>(
      this.db,
      `SELECT i.journey_key, count(*)::int AS count
         FROM journeys.instances i
         JOIN unnest($1::text[], $2::text[]) AS n(journey_key, version) ON n.journey_key = i.journey_key
        WHERE i.status IN ('active', 'waiting') AND i.journey_version IS DISTINCT FROM n.version
        GROUP BY i.journey_key`,
      [keys, keys.map((key) => versions.get(key) ?? null)],
    );
    return new Map(rows.map((row) => [row.journey_key, row.count]));
  }

  async inFlight(): Promise<Map<string, number>> {
    const rows = await queryRows<{ journey_key: string; count: number }>(
      this.db,
      `SELECT journey_key, count(*)::int AS count FROM journeys.instances
        WHERE status IN ('active', 'waiting') GROUP BY journey_key`,
    );
    return new Map(rows.map((row) => [row.journey_key, row.count]));
  }
}
