import { mergeTimeline } from './timeline';

const none = { events: [], milestones: [], journeys: [], messages: [], consent: [] };

describe('mergeTimeline', () => {
  it('puts every source on one timeline, newest first, cause before effect at the same instant', () => {
    const at = '2027-03-15T09:00:00.000Z';
    const timeline = mergeTimeline({
      events: [
        {
          eventId: 'e-1',
          type: 'order.placed',
          occurredAt: '2027-03-16T10:00:00.000Z',
          receivedAt: '2027-03-16T10:00:01.000Z',
          properties: { orderId: 'o-1', total: '129.90' },
        },
      ],
      milestones: [{ key: 'birthday', occurrence: '2027', reachedAt: at }],
      journeys: [
        {
          journeyKey: 'birthday_sequence',
          journeyVersion: 'abcdef0123456789',
          group: 'treatment',
          status: 'exited',
          currentStep: null,
          waitingUntil: null,
          enteredAt: at,
          exitReason: 'exit_on:order.placed',
        },
      ],
      messages: [
        {
          messageId: 'm-1',
          customerId: 'c-1',
          journeyKey: 'birthday_sequence',
          stepId: 'celebrate',
          milestoneKey: 'birthday',
          channel: 'email',
          template: 'birthday_email',
          variant: null,
          to: 'ann@example.com',
          subject: 'Happy birthday',
          body: null,
          status: 'opened',
          reason: null,
          createdAt: at,
          sentAt: '2027-03-15T09:00:02.000Z',
          statusHistory: [
            { status: 'queued', reason: null, occurredAt: at },
            { status: 'delivered', reason: null, occurredAt: '2027-03-15T09:00:03.000Z' },
            { status: 'opened', reason: null, occurredAt: '2027-03-15T12:00:00.000Z' },
          ],
        },
      ],
      consent: [
        {
          changeId: 'ch-1',
          channel: 'email',
          status: 'opted_out',
          source: 'unsubscribe_link',
          actor: null,
          changedAt: '2027-03-17T08:00:00.000Z',
        },
      ],
    });
    expect(timeline.map((entry) => [entry.at, entry.title, entry.detail])).toEqual([
      ['2027-03-17T08:00:00.000Z', 'email opted out', 'unsubscribe_link'],
      ['2027-03-16T10:00:00.000Z', 'order.placed', 'orderId=o-1 total=129.90'],
      ['2027-03-15T12:00:00.000Z', 'email birthday_email opened', 'birthday_sequence/celebrate'],
      ['2027-03-15T09:00:03.000Z', 'email birthday_email delivered', 'birthday_sequence/celebrate'],
      // Same instant: the milestone, then the journey it started, then the journey's first message.
      ['2027-03-15T09:00:00.000Z', 'email birthday_email queued', 'birthday_sequence/celebrate'],
      [
        '2027-03-15T09:00:00.000Z',
        'entered birthday_sequence',
        'treatment, version abcdef01; exited, reason exit_on:order.placed',
      ],
      ['2027-03-15T09:00:00.000Z', 'reached birthday', 'occurrence 2027'],
    ]);
  });

  it('without a status history, shows a message queued and at its current status with its reason', () => {
    const timeline = mergeTimeline({
      ...none,
      messages: [
        {
          messageId: 'm-2',
          customerId: 'c-1',
          journeyKey: null,
          stepId: null,
          milestoneKey: null,
          channel: 'sms',
          template: 'birthday_sms',
          variant: null,
          to: null,
          subject: null,
          body: 'Hi',
          status: 'suppressed',
          reason: 'consent',
          createdAt: '2027-03-15T09:00:00.000Z',
          sentAt: null,
        },
      ],
    });
    expect(timeline.map((entry) => [entry.id, entry.title, entry.detail])).toEqual([
      ['message:m-2:1', 'sms birthday_sms suppressed', 'consent'],
      ['message:m-2:0', 'sms birthday_sms queued', ''],
    ]);
  });
});
