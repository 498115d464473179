import type { History } from './history';
import { compareOutcomes, type MessageRecord, type Outcome } from './outcome';

const history: History = {
  seed: 1,
  stages: [],
  profileIds: ['c-1'],
  eventCount: 0,
  duplicateCount: 0,
  customerCount: 1,
  consentChangeCount: 0,
  clockMoves: 0,
};

const message = (messageId: string, decision: string): MessageRecord => ({
  messageId,
  customerId: 'c-1',
  channel: 'email',
  journeyKey: 'welcome',
  stepId: 'hello',
  decision,
});

function outcome(messages: MessageRecord[], calledIds: string[]): Outcome {
  return {
    messages: new Map(messages.map((m) => [m.messageId, m])),
    milestones: new Map([['c-1', new Set<string>()]]),
    calls: calledIds.map((messageId) => ({ channel: 'email', messageId, to: 'c1@example.com', stage: 0 })),
  };
}

describe('compareOutcomes', () => {
  it('counts an outcome_unknown apart: sent when its call was made, lost at hand-over when not, and a plain miss as missing', () => {
    const oracle = outcome(
      [message('called', 'sent'), message('not-called', 'sent'), message('dropped', 'sent')],
      ['called', 'not-called', 'dropped'],
    );
    const chaos = outcome(
      [message('called', 'failed:outcome_unknown'), message('not-called', 'failed:outcome_unknown')],
      ['called'],
    );
    const comparison = compareOutcomes(history, chaos, oracle);
    expect({
      outcomeUnknown: comparison.outcomeUnknown,
      lostAtHandover: comparison.lostAtHandover,
      missing: comparison.missing,
      mismatchedDecisions: comparison.mismatchedDecisions,
      duplicatesSent: comparison.duplicatesSent,
    }).toEqual({
      outcomeUnknown: 1,
      lostAtHandover: 1,
      missing: 1,
      mismatchedDecisions: 1,
      duplicatesSent: 0,
    });
    expect(comparison.differences).toEqual([
      'message dropped (c-1, welcome/hello, email): oracle sent, chaos none',
    ]);
  });

  it('does not take a message suppressed in the oracle for one lost at hand-over', () => {
    const oracle = outcome([message('m', 'suppressed:consent')], []);
    const chaos = outcome([message('m', 'failed:outcome_unknown')], []);
    const comparison = compareOutcomes(history, chaos, oracle);
    expect({ lostAtHandover: comparison.lostAtHandover, mismatched: comparison.mismatchedDecisions }).toEqual(
      {
        lostAtHandover: 0,
        mismatched: 1,
      },
    );
  });
});
