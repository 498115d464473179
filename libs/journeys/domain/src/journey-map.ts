import { stepKind, type JourneyDefinition } from '@mmp/program';

export type GroupCounts = { treatment: number; holdout: number };

/** How many instances stand where: one row per (version, group, status, step, exit reason, converted). */
export interface InstancePosition {
  journeyVersion: string;
  group: 'treatment' | 'holdout';
  status: 'active' | 'waiting' | 'completed' | 'exited';
  stepIndex: number;
  exitReason: string | null;
  converted: boolean;
  count: number;
}

/** Messages a step asked for, and those journeys itself withheld (frequency cap, priority). */
export interface StepRequests {
  stepId: string;
  suppressedReason: string | null;
  count: number;
}

export interface StepCounts {
  stepId: string;
  kind: 'send' | 'wait' | 'branch';
  entered: GroupCounts;
  waitingNow: number;
  requested: number;
  suppressed: Record<string, number>;
  exited: Record<string, number>;
  converted: GroupCounts;
}

export interface JourneyStepCounts {
  journeyKey: string;
  entered: GroupCounts;
  inFlight: number;
  converted: GroupCounts;
  completed: GroupCounts;
  exited: Record<string, number>;
  steps: StepCounts[];
}

const LIVE = new Set(['active', 'waiting']);

function add(record: Record<string, number>, key: string, n: number): void {
  record[key] = (record[key] ?? 0) + n;
}

/**
 * Live counts per step of a journey, over every version its instances entered, steps matched
 * by id. An instance has reached each step up to its current one (all of them once completed):
 * steps run in order, and a branch that jumps forward passes the steps between without them
 * doing anything, so they count as reached. Holdout instances complete at entry and reach no step.
 * The steps shown are the version in force's; a step only an older version had is listed after them.
 */
export function journeyStepCounts(
  current: JourneyDefinition,
  definitions: ReadonlyMap<string, JourneyDefinition>,
  positions: readonly InstancePosition[],
  requests: readonly StepRequests[],
): JourneyStepCounts {
  const steps = new Map<string, StepCounts>();
  const stepOf = (id: string, kind: StepCounts['kind']): StepCounts => {
    let counts = steps.get(id);
    if (!counts) {
      counts = {
        stepId: id,
        kind,
        entered: { treatment: 0, holdout: 0 },
        waitingNow: 0,
        requested: 0,
        suppressed: {},
        exited: {},
        converted: { treatment: 0, holdout: 0 },
      };
      steps.set(id, counts);
    }
    return counts;
  };
  for (const step of current.steps) stepOf(step.id, stepKind(step));

  const journey: JourneyStepCounts = {
    journeyKey: current.key,
    entered: { treatment: 0, holdout: 0 },
    inFlight: 0,
    converted: { treatment: 0, holdout: 0 },
    completed: { treatment: 0, holdout: 0 },
    exited: {},
    steps: [],
  };
  for (const position of positions) {
    const { group, count } = position;
    journey.entered[group] += count;
    if (position.converted) journey.converted[group] += count;
    if (LIVE.has(position.status)) journey.inFlight += count;
    if (position.status === 'completed') journey.completed[group] += count;
    if (position.status === 'exited') add(journey.exited, position.exitReason ?? 'unknown', count);
    if (position.exitReason === 'holdout') continue;
    const definition = definitions.get(position.journeyVersion) ?? current;
    const last = Math.min(position.stepIndex, definition.steps.length - 1);
    for (let index = 0; index <= last; index++) {
      const step = definition.steps[index]!;
      const counts = stepOf(step.id, stepKind(step));
      counts.entered[group] += count;
      if (position.converted) counts.converted[group] += count;
    }
    const here = definition.steps[position.stepIndex];
    if (!here) continue;
    const counts = stepOf(here.id, stepKind(here));
    if (position.status === 'waiting') counts.waitingNow += count;
    if (position.status === 'exited') add(counts.exited, position.exitReason ?? 'unknown', count);
  }
  for (const request of requests) {
    const counts = steps.get(request.stepId);
    if (!counts) continue;
    counts.requested += request.count;
    if (request.suppressedReason) add(counts.suppressed, request.suppressedReason, request.count);
  }
  journey.steps = [...steps.values()];
  return journey;
}
