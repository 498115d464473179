import { parseProgram } from '@mmp/program';
import { journeyStepCounts, type InstancePosition } from './journey-map';

const PROGRAM = `
policies: { timezone: UTC, consent: { email: opt-out, sms: opt-in, push: opt-in } }
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
journeys:
  - key: thanks
    trigger: second_order
    holdoutPercent: 10
    goal: { event: order.placed, withinDays: 7 }
    steps:
      - { id: celebrate, send: { template: t } }
      - { id: pause, wait: { days: 2 } }
      - { id: check, branch: { if: { eventSinceEntry: order.placed }, then: exit } }
      - { id: nudge, send: { template: t } }
templates:
  t: { channel: email, subject: s, text: x }
`;
const journey = parseProgram(PROGRAM).journeys[0]!;

function position(overrides: Partial<InstancePosition>): InstancePosition {
  return {
    journeyVersion: 'v1',
    group: 'treatment',
    status: 'active',
    stepIndex: 0,
    exitReason: null,
    converted: false,
    count: 1,
    ...overrides,
  };
}

describe('journeyStepCounts', () => {
  const counts = journeyStepCounts(
    journey,
    new Map([['v1', journey]]),
    [
      position({ status: 'waiting', stepIndex: 1, count: 3 }),
      position({ status: 'exited', stepIndex: 2, exitReason: 'branch:check', converted: true, count: 2 }),
      position({ status: 'completed', stepIndex: 4, count: 4 }),
      position({
        status: 'exited',
        stepIndex: 1,
        exitReason: 'exit_on:order.placed',
        converted: true,
        count: 1,
      }),
      position({ group: 'holdout', status: 'completed', exitReason: 'holdout', converted: true, count: 5 }),
    ],
    [
      { stepId: 'celebrate', suppressedReason: null, count: 9 },
      { stepId: 'celebrate', suppressedReason: 'frequency_cap', count: 1 },
      { stepId: 'nudge', suppressedReason: null, count: 4 },
    ],
  );

  it('counts each instance on every step up to where it stands, holdout on none', () => {
    expect(counts.steps.map((s) => [s.stepId, s.entered.treatment, s.entered.holdout])).toEqual([
      ['celebrate', 10, 0],
      ['pause', 10, 0],
      ['check', 6, 0],
      ['nudge', 4, 0],
    ]);
    expect(counts.entered).toEqual({ treatment: 10, holdout: 5 });
  });

  it('puts waiting instances and exits (by reason) on the step where they stand', () => {
    const byId = new Map(counts.steps.map((s) => [s.stepId, s]));
    expect(byId.get('pause')).toMatchObject({ waitingNow: 3, exited: { 'exit_on:order.placed': 1 } });
    expect(byId.get('check')).toMatchObject({ waitingNow: 0, exited: { 'branch:check': 2 } });
    expect(counts.exited).toEqual({ 'branch:check': 2, 'exit_on:order.placed': 1 });
    expect(counts.inFlight).toBe(3);
    expect(counts.completed).toEqual({ treatment: 4, holdout: 5 });
  });

  it('counts requests and journeys-side suppressions per step, and conversions of those who reached it', () => {
    const celebrate = counts.steps[0]!;
    expect(celebrate).toMatchObject({
      requested: 10,
      suppressed: { frequency_cap: 1 },
      converted: { treatment: 3, holdout: 0 },
    });
    expect(counts.steps[3]).toMatchObject({
      requested: 4,
      suppressed: {},
      converted: { treatment: 0, holdout: 0 },
    });
    expect(counts.converted).toEqual({ treatment: 3, holdout: 5 });
  });
});
