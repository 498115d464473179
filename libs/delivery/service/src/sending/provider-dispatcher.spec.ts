import type { ChannelSender, OutboundMessage } from '@mmp/channel-sdk';
import { FixedClock } from '@mmp/clock';
import type { MessageRequestedV1 } from '@mmp/contracts';
import type { ChannelRegistry } from '../channels/channel-registry';
import type { MessageRef } from '../store/message-ledger.store';
import { ProviderDispatcher } from './provider-dispatcher';
import { providerHandoversCounter } from './provider-handovers.metric';

const ref: MessageRef = {
  messageId: 'msg_1',
  customerId: 'c-1',
  journeyKey: 'j',
  stepId: 's',
  milestoneKey: 'm',
  channel: 'sms',
  template: 't',
  variant: null,
};
const outbound: OutboundMessage = {
  messageId: 'msg_1',
  customerId: 'c-1',
  channel: 'sms',
  to: '+14155550100',
  from: undefined,
  subject: undefined,
  text: undefined,
  html: undefined,
  body: 'hi',
  title: undefined,
  headers: {},
};

function dispatcherWith(sender: ChannelSender, clock: FixedClock, sleeps: number[]) {
  const registry = {
    senderFor: () => ({ provider: 'fake', sender, rateLimit: { perSecond: 2, burst: 2 } }),
  } as unknown as ChannelRegistry;
  return new ProviderDispatcher(registry, clock, {
    retryPolicy: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000 },
    random: () => 0.25,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advanceBy(ms);
    },
    retryPollMs: 0,
  });
}

describe('the provider dispatcher', () => {
  it('holds sends to the provider rate limit on the clock', async () => {
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    const sleeps: number[] = [];
    const sent: string[] = [];
    const dispatcher = dispatcherWith(
      {
        send: async (m) => {
          sent.push(clock.now().toISOString());
          return { providerMessageId: `p-${m.messageId}` };
        },
        classifyError: () => ({ kind: 'permanent', reason: 'x' }),
      },
      clock,
      sleeps,
    );
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(ref, outbound, 0, null);
    expect(sleeps).toEqual([500, 500, 500]);
    expect(sent).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2027-01-01T00:00:00.500Z',
      '2027-01-01T00:00:01.000Z',
      '2027-01-01T00:00:01.500Z',
    ]);
  });

  it('requeues a retryable error with jittered backoff, and dead-letters the last one', async () => {
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    const dispatcher = dispatcherWith(
      {
        send: async () => {
          throw new Error('throttled');
        },
        classifyError: () => ({ kind: 'retryable', reason: 'fake_429' }),
      },
      clock,
      [],
    );
    // Only carried along: the dead letter hands the original request to the DLQ topic.
    const request = { ...ref, schemaVersion: 1 } as unknown as MessageRequestedV1;
    const first = await dispatcher.dispatch(ref, outbound, 0, request);
    expect(first.outcome).toMatchObject({
      status: 'queued',
      attempts: 1,
      retryAt: new Date('2027-01-01T00:00:00.250Z'),
      pendingOutbound: outbound,
      pendingRequest: request,
      lastError: 'fake_429',
    });
    const second = await dispatcher.dispatch(ref, outbound, 1, request);
    expect(second.outcome.retryAt).toEqual(new Date('2027-01-01T00:00:00.500Z'));
    const last = await dispatcher.dispatch(ref, outbound, 2, request);
    expect(last.outcome).toMatchObject({
      status: 'failed',
      reason: 'retries_exhausted',
      attempts: 3,
      deadLetter: { provider: 'fake', channel: 'sms', customerId: 'c-1', outbound, request },
    });
    expect(last.outcome.retryAt).toBeUndefined();
  });

  it('fails a permanent error at once with provider_rejected and keeps the provider reason', async () => {
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    const dispatcher = dispatcherWith(
      {
        send: async () => {
          throw new Error('bad number');
        },
        classifyError: () => ({
          kind: 'permanent',
          reason: 'fake_21211',
          invalidAddresses: ['+14155550100'],
        }),
      },
      clock,
      [],
    );
    const result = await dispatcher.dispatch(ref, outbound, 0, null);
    expect(result.outcome).toMatchObject({
      status: 'failed',
      reason: 'provider_rejected',
      lastError: 'fake_21211',
    });
    expect(result.outcome.event).toMatchObject({
      status: 'failed',
      reason: 'provider_rejected',
      messageId: 'msg_1',
    });
    expect(result.unregisteredTokens).toEqual(['+14155550100']);
  });

  it('counts every provider call by channel, provider and what it came to', async () => {
    providerHandoversCounter().reset();
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    const answers = ['ok', 'throttled', 'throttled', 'bad number', 'ok'];
    const dispatcher = dispatcherWith(
      {
        send: async (m) => {
          const answer = answers.shift();
          if (answer !== 'ok') throw new Error(answer);
          return { providerMessageId: `p-${m.messageId}` };
        },
        classifyError: (error) =>
          (error as Error).message === 'throttled'
            ? { kind: 'retryable', reason: 'fake_429' }
            : { kind: 'permanent', reason: 'fake_21211' },
      },
      clock,
      [],
    );
    for (const attemptsBefore of [0, 0, 2, 0, 0])
      await dispatcher.dispatch(ref, outbound, attemptsBefore, null);

    const counted = (await providerHandoversCounter().get()).values.map(({ labels, value }) => ({
      ...labels,
      value,
    }));
    expect(counted).toEqual(
      expect.arrayContaining([
        { channel: 'sms', provider: 'fake', outcome: 'sent', value: 2 },
        { channel: 'sms', provider: 'fake', outcome: 'retry', value: 1 },
        { channel: 'sms', provider: 'fake', outcome: 'retries_exhausted', value: 1 },
        { channel: 'sms', provider: 'fake', outcome: 'rejected', value: 1 },
      ]),
    );
    expect(counted).toHaveLength(4);
  });
});
