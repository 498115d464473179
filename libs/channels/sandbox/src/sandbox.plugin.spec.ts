import { describeChannelConformance } from '@mmp/channel-testing';
import { SandboxOutbox } from './sandbox-outbox';
import { sandboxPlugin } from './sandbox.plugin';

describe('the sandbox plugin', () => {
  it('records the exact message instead of calling a provider', async () => {
    const outbox = new SandboxOutbox();
    const sender = sandboxPlugin('email', outbox).create({});
    const result = await sender.send({
      messageId: 'm-1',
      customerId: 'c-42',
      channel: 'email',
      to: 'ann@example.com',
      from: 'shop@example.com',
      subject: 'Hi',
      text: 'Hello',
      html: undefined,
      body: undefined,
      title: undefined,
      headers: {},
    });
    expect(result).toEqual({ providerMessageId: 'sandbox-m-1' });
    expect(outbox.forCustomer('c-42')).toMatchObject([
      { messageId: 'm-1', to: 'ann@example.com', subject: 'Hi' },
    ]);
    expect(outbox.forCustomer('c-43')).toEqual([]);
  });
});

for (const channel of ['email', 'sms', 'push'] as const) {
  const outbox = new SandboxOutbox();
  describeChannelConformance({
    plugin: sandboxPlugin(channel, outbox),
    invalidSettings: [null, 'sandbox'],
    startFake: async () => ({
      settings: {},
      received: async () => outbox.all().map((m) => ({ text: JSON.stringify(m) })),
      failNext: (kind) => outbox.failNext(kind),
      stop: async () => undefined,
    }),
  });
}
