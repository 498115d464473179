import { describeOffsetReset, offsetResetOf, type OffsetReset } from './kafka-offset-resets';

const reset: OffsetReset = {
  topic: 'customer.events.v1',
  partition: 2,
  group: 'milestones',
  kafkaGroupId: 'milestones.customer.events.v1',
  committed: 120n,
  log: { earliest: 250n, latest: 900n },
};

describe('offsetResetOf', () => {
  it('reads the partition kafkajs reset from its log entry', () => {
    expect(
      offsetResetOf('Offset out of range, resetting to default offset', {
        topic: 'customer.events.v1',
        partition: 2,
        groupId: 'milestones.customer.events.v1',
        memberId: 'm-1',
      }),
    ).toEqual({ groupId: 'milestones.customer.events.v1', topic: 'customer.events.v1', partition: 2 });
  });

  it('ignores other lines and entries without the fields', () => {
    expect(
      offsetResetOf('Offset out of range while fetching from follower, retrying with leader', {}),
    ).toBeUndefined();
    expect(offsetResetOf('Offset out of range, resetting to default offset', { topic: 't' })).toBeUndefined();
  });
});

describe('describeOffsetReset', () => {
  it('names the range deleted unread and counts it', () => {
    expect(describeOffsetReset(reset)).toEqual({
      lost: 130n,
      message:
        'consumer group milestones (Kafka group milestones.customer.events.v1) on customer.events.v1 partition 2: ' +
        'committed offset 120 fell out of retention (earliest offset now 250): offsets 120 to 249 (130 messages) ' +
        'were deleted unread; reset to 250, consuming goes on from there',
    });
  });

  it('tells a log that ends before the committed offset (a recreated topic), losing nothing counted', () => {
    const beyond = describeOffsetReset({ ...reset, committed: 1000n, log: { earliest: 0n, latest: 10n } });
    expect(beyond.lost).toBe(0n);
    expect(beyond.message).toContain(
      'committed offset 1000 is beyond the end of the log (10: the topic was recreated or truncated)',
    );
  });

  it('still names topic, partition and group when the range cannot be known', () => {
    expect(describeOffsetReset({ ...reset, committed: undefined })).toEqual({
      lost: 0n,
      message:
        'consumer group milestones (Kafka group milestones.customer.events.v1) on customer.events.v1 partition 2: ' +
        'committed offset out of range, reset to the earliest offset; the lost range is unknown (its committed offset is unknown)',
    });
    expect(describeOffsetReset({ ...reset, log: undefined }).message).toContain(
      'the lost range is unknown (the partition log could not be read)',
    );
  });
});
