import type { Group, InstanceStatus, WaitReason } from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { InstanceRow } from './instance.store';

/** A customer's journeys as the API lists them, read from the instances and their versions. */
@Injectable()
export class CustomerJourneysQuery {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /** Per customer: journeys entered, where each stands, why it ended, and its goal. */
  async instancesOf(customerId: string, now: Date): Promise<CustomerJourney[]> {
    const rows = await queryRows<
      Pick<
        InstanceRow,
        | 'journey_key'
        | 'journey_version'
        | 'grp'
        | 'status'
        | 'wake_at'
        | 'wait_reason'
        | 'entered_at'
        | 'exit_reason'
        | 'goal_event'
        | 'goal_ends_at'
      > & { step_id: string | null; goal_reached_at: Date | null }
    >(
      this.db,
      `SELECT i.journey_key, i.journey_version, i.grp, i.status,
              v.definition -> 'steps' -> i.step_index ->> 'id' AS step_id,
              i.wake_at, i.wait_reason, i.entered_at, i.exit_reason, i.goal_event, i.goal_ends_at, i.goal_reached_at
         FROM journeys.instances i
         JOIN journeys.journey_versions v ON v.journey_key = i.journey_key AND v.version = i.journey_version
        WHERE i.customer_id = $1
        ORDER BY i.entered_at DESC, i.journey_key`,
      [customerId],
    );
    return rows.map((row) => {
      const live = row.status === 'active' || row.status === 'waiting';
      return {
        journeyKey: row.journey_key,
        journeyVersion: row.journey_version,
        group: row.grp,
        status: row.status,
        currentStep: live ? row.step_id : null,
        waitingUntil: row.wake_at?.toISOString() ?? null,
        waitingFor: row.status === 'waiting' ? row.wait_reason : null,
        enteredAt: row.entered_at.toISOString(),
        exitReason: row.exit_reason,
        goal:
          row.goal_event && row.goal_ends_at
            ? {
                event: row.goal_event,
                windowEndsAt: row.goal_ends_at.toISOString(),
                reachedAt: row.goal_reached_at?.toISOString() ?? null,
                outcome: row.goal_reached_at
                  ? 'reached'
                  : row.goal_ends_at.getTime() < now.getTime()
                    ? 'missed'
                    : 'pending',
              }
            : null,
      };
    });
  }
}

export interface CustomerJourney {
  journeyKey: string;
  journeyVersion: string;
  group: Group;
  status: InstanceStatus;
  currentStep: string | null;
  waitingUntil: string | null;
  /** `wait` for a wait step, `quiet_hours` for a send held until the quiet window ends. */
  waitingFor: WaitReason | null;
  enteredAt: string;
  exitReason: string | null;
  /** The goal window from entry and whether the goal event happened within it (treatment and holdout alike). */
  goal: {
    event: string;
    windowEndsAt: string;
    reachedAt: string | null;
    outcome: 'reached' | 'pending' | 'missed';
  } | null;
}
