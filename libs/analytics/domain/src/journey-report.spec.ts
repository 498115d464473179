import { journeyReport, openingStepsOf, type JourneyFigures } from './journey-report';
import { liftOf } from './lift';

const figures: JourneyFigures = {
  groups: [
    { group: 'treatment', entered: 900, conversions: 135, revenue: '6750.00' },
    { group: 'holdout', entered: 100, conversions: 10, revenue: '480.50' },
  ],
  facts: [
    { stepId: 'celebrate', variant: null, status: 'sent', messages: 880, customers: 880 },
    { stepId: 'celebrate', variant: null, status: 'suppressed', messages: 20, customers: 20 },
    { stepId: 'celebrate', variant: null, status: 'opened', messages: 300, customers: 300 },
    { stepId: 'nudge', variant: 'a', status: 'sent', messages: 400, customers: 400 },
    { stepId: 'nudge', variant: 'a', status: 'clicked', messages: 40, customers: 40 },
    { stepId: 'nudge', variant: 'b', status: 'sent', messages: 390, customers: 390 },
    { stepId: 'nudge', variant: 'b', status: 'queued', messages: 5, customers: 5 },
  ],
  // Everyone the follow-up reached was sent the celebration too: 880 customers were sent something.
  customers: [
    { status: 'opened', customers: 300 },
    { status: 'queued', customers: 5 },
    { status: 'sent', customers: 880 },
    { status: 'suppressed', customers: 20 },
    { status: 'clicked', customers: 40 },
  ],
  variants: [
    { stepId: 'nudge', variant: 'a', entered: 400, conversions: 70 },
    { stepId: 'nudge', variant: 'b', entered: 390, conversions: 50 },
  ],
  touches: [{ kind: 'open', total: 420, machine: 60 }],
  volume: [
    { day: '2027-03-15', status: 'sent', messages: 880 },
    { day: '2027-03-17', status: 'sent', messages: 790 },
    { day: '2027-03-17', status: 'clicked', messages: 40 },
  ],
};

describe('journeyReport', () => {
  const report = journeyReport('birthday_sequence', figures, new Set(['celebrate']));

  it('adds treatment and holdout into entered, and counts customers per status, never more than entered', () => {
    expect(report).toMatchObject({
      entered: 1000,
      holdout: 100,
      sent: 880,
      messages: { sent: 1670, opened: 300, clicked: 40, suppressed: 20 },
      opened: 300,
      clicked: 40,
      suppressed: 20,
      conversions: { treatment: 135, holdout: 10 },
      conversionRate: { treatment: 0.15, holdout: 0.1 },
      revenue: { treatment: '6750.00', holdout: '480.50' },
      tracking: { opens: 420, machineOpens: 60, clicks: 0, machineClicks: 0 },
    });
  });

  it("answers the lift with Newcombe's interval", () => {
    const expected = liftOf({ conversions: 135, entered: 900 }, { conversions: 10, entered: 100 });
    expect(report.lift).toBeCloseTo(0.05, 12);
    expect(report.liftInterval).toEqual([expected.interval?.lo, expected.interval?.hi]);
  });

  it("compares a later step's variant with the step's other variants among those who reached it, not the holdout", () => {
    const rateA = 70 / 400;
    const rateB = 50 / 390;
    expect(report.variants.map((v) => [v.variant, v.comparedWith, v.conversionRate, v.conversions])).toEqual([
      ['a', 'other_variants', { treatment: rateA, holdout: rateB }, { treatment: 70, holdout: 50 }],
      ['b', 'other_variants', { treatment: rateB, holdout: rateA }, { treatment: 50, holdout: 70 }],
    ]);
    expect(report.variants[0]?.lift).toBeCloseTo(rateA - rateB, 12);
    expect(report.variants[1]?.lift).toBeCloseTo(rateB - rateA, 12);
  });

  it("compares an opening step's variant with the holdout: every treatment entrant reaches that step", () => {
    const opening = journeyReport('birthday_sequence', figures, new Set(['celebrate', 'nudge']));
    expect(opening.variants.map((v) => [v.variant, v.comparedWith, v.lift])).toEqual([
      ['a', 'holdout', 0.175 - 0.1],
      ['b', 'holdout', 50 / 390 - 0.1],
    ]);
  });

  it('takes the steps before the first wait or branch as opening steps', () => {
    expect(
      openingStepsOf([
        { id: 'celebrate', kind: 'send' },
        { id: 'pause', kind: 'wait' },
        { id: 'nudge', kind: 'send' },
      ]),
    ).toEqual(new Set(['celebrate']));
  });

  it('answers per step (customers and sends) and per day', () => {
    expect(report.steps.map((step) => [step.stepId, step.sent, step.opened, step.clicked])).toEqual([
      ['celebrate', 880, 300, 0],
      ['nudge', 790, 0, 40],
    ]);
    expect(report.steps.map((step) => [step.stepId, step.messages.sent])).toEqual([
      ['celebrate', 880],
      ['nudge', 790],
    ]);
    expect(report.variants.map((v) => [v.variant, v.entered, v.sent, v.conversionRate.treatment])).toEqual([
      ['a', 400, 400, 0.175],
      ['b', 390, 390, 50 / 390],
    ]);
    expect(report.volume).toEqual([
      {
        day: '2027-03-15',
        sent: 880,
        delivered: 0,
        opened: 0,
        clicked: 0,
        bounced: 0,
        failed: 0,
        suppressed: 0,
      },
      {
        day: '2027-03-17',
        sent: 790,
        delivered: 0,
        opened: 0,
        clicked: 40,
        bounced: 0,
        failed: 0,
        suppressed: 0,
      },
    ]);
  });
});
