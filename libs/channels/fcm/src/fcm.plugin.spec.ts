import {
  describeChannelConformance,
  sampleMessage,
  startFcmFake,
  UNREGISTERED_TOKEN_PREFIX,
  type FcmFake,
} from '@mmp/channel-testing';
import { classifyFcmError, fcmPlugin } from './fcm.plugin';

describeChannelConformance({
  plugin: fcmPlugin,
  invalidSettings: [
    {},
    { fcmProjectId: 'mmp-test' },
    { fcmProjectId: 'X', fcmEndpoint: 'http://127.0.0.1:1' },
  ],
  startFake: () => startFcmFake(),
});

describe('the FCM plugin, against its loopback fake', () => {
  let fake: FcmFake;
  let sender: ReturnType<typeof fcmPlugin.create>;
  beforeAll(async () => {
    fake = await startFcmFake('mmp-test');
    sender = fcmPlugin.create(fcmPlugin.settingsSchema.parse(fake.settings));
  });
  afterAll(async () => {
    await sender.close?.();
    await fake.stop();
  });

  it('posts this FCM v1 JSON per token over HTTP/1.1 to fcm.googleapis.com', async () => {
    const before = fake.calls.length;
    const result = await sender.send(
      sampleMessage('push', { messageId: 'msg_push_1', to: ['token-a', 'token-b'] }),
    );
    const calls = fake.calls.slice(before);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.path).toBe('/v1/projects/mmp-test/messages:send');
      expect(call.host).toBe('fcm.googleapis.com');
      expect(call.authorization).toBe('Bearer loopback-token');
    }
    expect(
      calls.map((c) => c.json).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(
      ['token-a', 'token-b'].map((token) => ({
        message: {
          token,
          notification: { title: 'Happy birthday, Ann!', body: 'Enjoy 20% off with BDAY20' },
          data: { messageId: 'msg_push_1' },
        },
      })),
    );
    expect(result.providerMessageId).toMatch(/^projects\/mmp-test\/messages\/[0-9a-f]{16}$/);
    expect(result.invalidAddresses).toBeUndefined();
  });

  it('reports unregistered tokens back while the others still get the message', async () => {
    const gone = `${UNREGISTERED_TOKEN_PREFIX}1`;
    const result = await sender.send(sampleMessage('push', { to: ['token-a', gone] }));
    expect(result.invalidAddresses).toEqual([gone]);
  });

  it('fails permanently when every token is unregistered, still naming them', async () => {
    const gone = [`${UNREGISTERED_TOKEN_PREFIX}2`, `${UNREGISTERED_TOKEN_PREFIX}3`];
    const error = await sender.send(sampleMessage('push', { to: gone })).catch((e: unknown) => e);
    expect(classifyFcmError(error)).toEqual({
      kind: 'permanent',
      reason: 'push_token_unregistered',
      invalidAddresses: gone,
    });
  });

  it('honours the Retry-After of QUOTA_EXCEEDED', async () => {
    fake.failNextWithQuota(17);
    const error = await sender.send(sampleMessage('push')).catch((e: unknown) => e);
    expect(classifyFcmError(error)).toEqual({
      kind: 'retryable',
      reason: 'fcm_quota_exceeded',
      retryAfterMs: 17_000,
    });
  });

  it('refuses more than 500 tokens in one multicast', async () => {
    const tokens = Array.from({ length: 501 }, (_, i) => `t-${i}`);
    const before = fake.calls.length;
    const error = await sender.send(sampleMessage('push', { to: tokens })).catch((e: unknown) => e);
    expect(classifyFcmError(error).kind).toBe('permanent');
    expect(fake.calls.length).toBe(before);
  });
});
