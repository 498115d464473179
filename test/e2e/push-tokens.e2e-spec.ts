import { InMemoryBus } from '@mmp/bus';
import { startFcmFake, UNREGISTERED_TOKEN_PREFIX, type FcmFake } from '@mmp/channel-testing';
import { FixedClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import {
  MessagesRequestedTopic,
  RetailEventsTopic,
  type CustomerProfileSnapshot,
  type MessageRequestedV1,
} from '@mmp/contracts';
import { DeliveryModule, RetryDueMessagesUsecase } from '@mmp/delivery-service';
import { IngestionModule } from '@mmp/ingestion-service';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import { Module, type INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import { useTestDatabase } from '../support';

/**
 * Push tokens from end to end: ingestion keeps the `pushTokens` trait from push.token.* events,
 * delivery sends through the real firebase-admin SDK to the FCM fake, and a token FCM reports
 * unregistered goes back to ingestion as `push.token.unregistered` on retail.events.v1 (through
 * delivery's outbox), so the profile loses it and later pushes skip it.
 */
const PROGRAM = `
policies:
  timezone: America/New_York
  consent: { email: opt-out, sms: opt-out, push: opt-out }
templates:
  hello_push: { channel: push, title: 'Hi {{customer.firstName}}', body: 'A gift for you' }
`;
const T0 = new Date('2027-03-15T14:00:00.000Z');

@Module({
  imports: [
    DeliveryModule.withTiming({
      retryPolicy: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000 },
      random: () => 0.5,
      sleep: async () => undefined,
      retryPollMs: 0,
    }),
  ],
})
class DeliveryUnderTest {}

describe('push tokens FCM reports unregistered leave the profile', () => {
  const database = useTestDatabase();
  let app: INestApplication;
  let baseUrl: string;
  let bus: InMemoryBus;
  let clock: FixedClock;
  let fcm: FcmFake;
  let db: Client;

  beforeAll(async () => {
    fcm = await startFcmFake('mmp-test');
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      LOG_LEVEL: 'error',
      PUSH_PROVIDER: 'fcm',
      FCM_PROJECT_ID: 'mmp-test',
      FCM_ENDPOINT: fcm.endpoint,
    });
    bus = new InMemoryBus({ retry: { attempts: 2, initialBackoffMs: 1, maxBackoffMs: 5 } });
    clock = new FixedClock(T0);
    app = await startServices({
      name: 'ingestion+delivery',
      services: [IngestionModule, DeliveryUnderTest],
      config,
      bus,
      clock,
      program: new ProgramStore(parseProgram(PROGRAM)),
    });
    baseUrl = await loopbackUrlOf(app);
    db = await database.connect();
  });

  afterAll(async () => {
    await app?.close();
    await fcm?.stop();
  });

  const call = async (path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const profileOf = async (customerId: string) =>
    (await call(`/v1/customers/${customerId}`)).body as unknown as CustomerProfileSnapshot;
  const tokenEvent = (
    eventId: string,
    customerId: string,
    type: string,
    properties: unknown,
    minute = 0,
  ) => ({
    eventId,
    type,
    occurredAt: new Date(T0.getTime() - 60 * 60_000 + minute * 60_000).toISOString(),
    customerId,
    traits: { firstName: 'Ann' },
    properties,
  });

  let sequence = 0;
  async function push(customer: CustomerProfileSnapshot): Promise<MessageRequestedV1> {
    sequence += 1;
    const request: MessageRequestedV1 = {
      schemaVersion: 1,
      messageId: `msg_push_${sequence}`,
      customerId: customer.customerId,
      journeyKey: 'hello_journey',
      journeyVersion: 'v1',
      instanceId: `i-${sequence}`,
      stepId: 'hello',
      milestoneKey: 'second_order',
      occurrenceId: `o-${sequence}`,
      template: 'hello_push',
      channel: 'push',
      variant: null,
      requestedAt: clock.now().toISOString(),
      milestone: { key: 'second_order', occurrence: '2' },
      offer: null,
      customer,
    };
    await bus.publish(MessagesRequestedTopic, [{ key: customer.customerId, value: request }]);
    await bus.whenIdle();
    return request;
  }
  const unregistrationsOf = (customerId: string) =>
    bus
      .messagesOn(RetailEventsTopic.name)
      .filter((m) => m.key === customerId)
      .map((m) => m.value as { type: string; eventId: string })
      .filter((e) => e.type === 'push.token.unregistered');

  it('validates push token events on POST /v1/events', async () => {
    const answer = await call('/v1/events', {
      batch: [
        tokenEvent('v-1', 'c-valid', 'push.token.unregistered', {
          token: 'tok-1',
          reason: 'app_uninstalled',
        }),
        tokenEvent('v-2', 'c-valid', 'push.token.unregistered', { reason: 'no token' }),
      ],
    });
    expect(answer).toEqual({
      status: 202,
      body: {
        accepted: 1,
        duplicates: 0,
        rejected: [
          { index: 1, eventId: 'v-2', errors: [{ path: 'properties.token', message: expect.any(String) }] },
        ],
      },
    });
  });

  it('removes the token FCM reported unregistered from the profile, and the next push goes to the other only', async () => {
    const gone = `${UNREGISTERED_TOKEN_PREFIX}phone-1`;
    const registered = await call('/v1/events', {
      batch: [
        tokenEvent('t-1', 'c-push', 'push.token.registered', { token: gone, platform: 'android' }, 0),
        tokenEvent('t-2', 'c-push', 'push.token.registered', { token: 'tok-live', platform: 'ios' }, 1),
      ],
    });
    expect(registered.body).toMatchObject({ accepted: 2, rejected: [] });
    await bus.whenIdle();
    expect((await profileOf('c-push')).traits['pushTokens']).toEqual([gone, 'tok-live']);

    const before = fcm.calls.length;
    const first = await push(await profileOf('c-push'));
    expect(
      fcm.calls
        .slice(before)
        .map((c) => c.token)
        .sort(),
    ).toEqual(['tok-live', gone]);

    // Delivery's report went through retail.events.v1 into ingestion.
    expect(unregistrationsOf('c-push')).toEqual([
      {
        eventId: expect.stringMatching(/^push-token-unregistered:[0-9a-f]{64}$/),
        type: 'push.token.unregistered',
        occurredAt: T0.toISOString(),
        customerId: 'c-push',
        properties: {
          token: gone,
          reason: 'provider_unregistered',
          source: 'delivery',
          provider: 'fcm',
          messageId: first.messageId,
        },
      },
    ]);
    const profile = await profileOf('c-push');
    expect(profile.traits['pushTokens']).toEqual(['tok-live']);
    expect(profile.attributes.eventCounts['push.token.unregistered']).toBe(1);

    const next = fcm.calls.length;
    await push(profile);
    expect(fcm.calls.slice(next).map((c) => c.token)).toEqual(['tok-live']);

    // A redelivered request publishes nothing again.
    await bus.publish(MessagesRequestedTopic, [{ key: 'c-push', value: first }]);
    await bus.whenIdle();
    expect(unregistrationsOf('c-push')).toHaveLength(1);
    const { rows } = await db.query(
      'SELECT token, message_id, published_at FROM delivery.unregistered_push_tokens WHERE customer_id = $1',
      ['c-push'],
    );
    expect(rows).toEqual([{ token: gone, message_id: first.messageId, published_at: T0 }]);
  });

  it('keeps the token out when the report arrives before an older registration', async () => {
    const gone = `${UNREGISTERED_TOKEN_PREFIX}phone-2`;
    await call('/v1/events', {
      batch: [
        tokenEvent('late-1', 'c-late', 'push.token.registered', { token: 'tok-other', platform: 'web' }),
      ],
    });
    await bus.whenIdle();
    await push({
      ...(await profileOf('c-late')),
      traits: { firstName: 'Ann', pushTokens: [gone, 'tok-other'] },
    });
    expect(unregistrationsOf('c-late')).toHaveLength(1);
    // A registration from before the report, arriving only now (an import, a lagging app), stays removed.
    await call('/v1/events', {
      batch: [
        tokenEvent('late-2', 'c-late', 'push.token.registered', { token: gone, platform: 'android' }, 30),
      ],
    });
    expect((await profileOf('c-late')).traits['pushTokens']).toEqual(['tok-other']);
  });

  it('publishes a report whose publish failed from the sweep after its lease, once', async () => {
    const gone = `${UNREGISTERED_TOKEN_PREFIX}phone-3`;
    await call('/v1/events', {
      batch: [
        tokenEvent('f-1', 'c-fault', 'push.token.registered', { token: gone, platform: 'android' }, 0),
        tokenEvent('f-2', 'c-fault', 'push.token.registered', { token: 'tok-kept', platform: 'ios' }, 1),
      ],
    });
    await bus.whenIdle();
    const publish = bus.publish.bind(bus);
    // The broker refuses every retail event for a while: the consumer's retries all fail too.
    const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, messages) => {
      if (topic.name === RetailEventsTopic.name) throw new Error('broker down');
      return publish(topic, messages);
    });
    const before = fcm.calls.length;
    await push(await profileOf('c-fault'));
    spy.mockRestore();
    expect(fcm.calls.length - before).toBe(2);
    expect(unregistrationsOf('c-fault')).toEqual([]);
    expect((await profileOf('c-fault')).traits['pushTokens']).toEqual([gone, 'tok-kept']);

    const retries = app.get(RetryDueMessagesUsecase);
    clock.advanceBy(29_999);
    await retries.execute();
    expect(unregistrationsOf('c-fault')).toEqual([]); // still within the lease
    clock.advanceBy(2);
    await retries.execute();
    await bus.whenIdle();
    expect(unregistrationsOf('c-fault')).toHaveLength(1);
    expect((await profileOf('c-fault')).traits['pushTokens']).toEqual(['tok-kept']);
    await retries.execute();
    expect(unregistrationsOf('c-fault')).toHaveLength(1);
    expect(fcm.calls.length - before).toBe(2);
  });

  it('uses a token again once the app registers it after the report, and records a new report of it', async () => {
    const back = `${UNREGISTERED_TOKEN_PREFIX}phone-4`;
    const at = (minutesFromNow: number) =>
      new Date(clock.now().getTime() + minutesFromNow * 60_000).toISOString();
    const register = (eventId: string, token: string, occurredAt: string) => ({
      ...tokenEvent(eventId, 'c-back', 'push.token.registered', { token, platform: 'android' }),
      occurredAt,
    });
    await call('/v1/events', {
      batch: [register('b-1', back, at(-10)), register('b-2', 'tok-back-other', at(-9))],
    });
    await bus.whenIdle();
    await push(await profileOf('c-back'));
    expect(unregistrationsOf('c-back')).toHaveLength(1);
    expect((await profileOf('c-back')).traits['pushTokens']).toEqual(['tok-back-other']);

    // The app registers the same token again, after the report.
    clock.advanceBy(5 * 60_000);
    expect((await call('/v1/events', { batch: [register('b-3', back, at(-1))] })).body).toMatchObject({
      accepted: 1,
    });
    await bus.whenIdle();
    expect((await profileOf('c-back')).traits['pushTokens']).toEqual(['tok-back-other', back]);
    const before = fcm.calls.length;
    await push(await profileOf('c-back'));
    expect(
      fcm.calls
        .slice(before)
        .map((c) => c.token)
        .sort(),
    ).toEqual(['tok-back-other', back].sort());
    // FCM reports it gone again: a second report, and the profile loses it again.
    expect(unregistrationsOf('c-back')).toHaveLength(2);
    expect((await profileOf('c-back')).traits['pushTokens']).toEqual(['tok-back-other']);
  });
});
