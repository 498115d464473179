import { InMemoryBus } from '@mmp/bus';
import {
  startFcmFake,
  startSesFake,
  startSnsFake,
  startTwilioFake,
  TWILIO_TEST_ACCOUNT_SID,
  TWILIO_TEST_AUTH_TOKEN,
  UNREGISTERED_TOKEN_PREFIX,
  type FcmFake,
  type SesFake,
  type SnsFake,
  type TwilioFake,
} from '@mmp/channel-testing';
import { FixedClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { MessagesEventsTopic, MessagesRequestedTopic, type MessageRequestedV1 } from '@mmp/contracts';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import { Module, type INestApplication } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { Client } from 'pg';
import {
  DeliveryModule,
  HANDOVER_CHUNK,
  MessageLedgerStore,
  RetryDueMessagesUsecase,
  SendMessagesUsecase,
} from '@mmp/delivery-service';
import { useTestDatabase } from '../support';

/**
 * Delivery alone, on real Postgres, with the real SES, Twilio and Firebase SDKs pointed at
 * their loopback fakes, a fixed clock and pinned jitter: sending, retries on the clock, the
 * kill between a provider call and its record, receipts, previews.
 */
const PROGRAM = `
policies:
  timezone: America/New_York
  consent: { email: opt-out, sms: opt-out, push: opt-out }
templates:
  hello_email:
    channel: email
    subject: 'Hello {{customer.firstName}}'
    html: '<p>You spent {{money customer.lifetimeValue "USD"}}</p><a href="https://shop.example/">Shop</a>'
    text: 'You spent {{money customer.lifetimeValue "USD"}}'
    layout: brand
    tracking: true
  hello_sms: { channel: sms, body: 'Hi {{customer.firstName}}, since {{date customer.registeredAt "long"}}' }
  hello_push: { channel: push, title: 'Hi {{customer.firstName}}', body: 'A gift for you' }
  broken_sms: { channel: sms, body: '{{money customer.firstName "USD"}}' }
partials:
  footer: '<footer><a href="{{unsubscribeUrl}}">Unsubscribe</a></footer>'
layouts:
  brand: '<html><body>{{{body}}}{{> footer}}</body></html>'
`;

const PUBLIC_URL = 'https://m.example.com';
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

let sequence = 0;
function request(
  channel: 'email' | 'sms' | 'push',
  overrides: Partial<MessageRequestedV1> = {},
  traits: Record<string, unknown> = {},
): MessageRequestedV1 {
  sequence += 1;
  const customerId = overrides.customerId ?? `c-${channel}-${sequence}`;
  return {
    schemaVersion: 1,
    messageId: `msg_${channel}_${sequence}`,
    customerId,
    journeyKey: 'hello_journey',
    journeyVersion: 'v1',
    instanceId: `i-${sequence}`,
    stepId: 'hello',
    milestoneKey: 'second_order',
    occurrenceId: `o-${sequence}`,
    template: `hello_${channel}`,
    channel,
    variant: null,
    requestedAt: T0.toISOString(),
    milestone: { key: 'second_order', occurrence: '2' },
    offer: null,
    customer: {
      customerId,
      traits: {
        firstName: 'Ann',
        email: `${customerId}@example.com`,
        phone: '+14155550100',
        pushTokens: ['token-a'],
        ...traits,
      },
      attributes: {
        lifetimeOrders: 2,
        lifetimeValue: '170.00',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: '2027-01-01T15:00:00Z',
        eventCounts: {},
      },
    },
    ...overrides,
  };
}

function twilioSignature(url: string, fields: Record<string, string>): string {
  const data = Object.keys(fields)
    .sort()
    .reduce((acc, key) => acc + key + fields[key], url);
  return createHmac('sha1', TWILIO_TEST_AUTH_TOKEN).update(Buffer.from(data, 'utf-8')).digest('base64');
}

describe('delivery through the real SDKs and their loopback fakes', () => {
  const database = useTestDatabase();
  let app: INestApplication;
  let baseUrl: string;
  let bus: InMemoryBus;
  let clock: FixedClock;
  let ses: SesFake;
  let twilio: TwilioFake;
  let fcm: FcmFake;
  let sns: SnsFake;
  let send: SendMessagesUsecase;
  let retries: RetryDueMessagesUsecase;
  let db: Client;

  beforeAll(async () => {
    [ses, twilio, fcm, sns] = await Promise.all([
      startSesFake(),
      startTwilioFake(),
      startFcmFake('mmp-test'),
      startSnsFake(),
    ]);
    // The AWS SDK reads its credentials from the environment, as it would in production.
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIDLOCAL';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'local-secret';
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      LOG_LEVEL: 'error',
      PUBLIC_URL,
      EMAIL_PROVIDER: 'ses',
      EMAIL_FROM: 'Shop <shop@example.com>',
      SES_ENDPOINT: ses.endpoint,
      SNS_CERT_URL_PATTERN: sns.certUrlPattern,
      SMS_PROVIDER: 'twilio',
      SMS_FROM: '+14155550199',
      TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TEST_AUTH_TOKEN,
      TWILIO_API_BASE: twilio.apiBase,
      PUSH_PROVIDER: 'fcm',
      FCM_PROJECT_ID: 'mmp-test',
      FCM_ENDPOINT: fcm.endpoint,
    });
    bus = new InMemoryBus();
    clock = new FixedClock(T0);
    app = await startServices({
      name: 'delivery',
      services: [DeliveryUnderTest],
      config,
      bus,
      clock,
      program: new ProgramStore(parseProgram(PROGRAM)),
    });
    baseUrl = await loopbackUrlOf(app);
    send = app.get(SendMessagesUsecase);
    retries = app.get(RetryDueMessagesUsecase);
    db = await database.connect();
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([ses?.stop(), twilio?.stop(), fcm?.stop(), sns?.stop()]);
  });

  const messagesOf = async (customerId: string) =>
    (await (
      await fetch(`${baseUrl}/v1/customers/${customerId}/messages`, {
        headers: { authorization: 'Bearer test-key' },
      })
    ).json()) as {
      messageId: string;
      status: string;
      reason: string | null;
      to: string | null;
    }[];
  const deadLettersOf = (customerId: string) =>
    bus
      .messagesOn(MessagesRequestedTopic.dlq)
      .filter((m) => m.key === customerId)
      .map((m) => ({ value: m.value, headers: m.headers }));
  const statusRecordsOf = (messageId: string) =>
    bus
      .messagesOn(MessagesEventsTopic.name)
      .filter((m) => (m.value as { messageId: string }).messageId === messageId)
      .map((m) => ({ key: m.key, value: m.value }));
  const eventsOf = (messageId: string) =>
    bus
      .messagesOn(MessagesEventsTopic.name)
      .map((m) => m.value as { messageId: string; status: string; reason: string | null })
      .filter((e) => e.messageId === messageId)
      .map((e) => `${e.status}${e.reason ? `/${e.reason}` : ''}`);
  const providerMessageIdOf = async (messageId: string): Promise<string> => {
    const { rows } = await db.query(
      'SELECT provider_message_id FROM delivery.messages WHERE message_id = $1',
      [messageId],
    );
    return rows[0].provider_message_id as string;
  };
  /** An SMS whose first two attempts fail (Twilio 20500) and whose third and last is due now, failing too. */
  const failUntilTheLastRetryIsDue = async (req: MessageRequestedV1): Promise<void> => {
    for (let i = 0; i < 3; i++) twilio.failNextWith(500, 20500, 'Internal Server Error');
    await send.execute([req]);
    clock.advanceBy(500);
    await retries.execute();
    clock.advanceBy(1000);
  };
  /** A Twilio status callback, signed as Twilio signs it unless another signature is given. */
  const postTwilioStatus = (
    fields: Record<string, string>,
    signature = twilioSignature(`${PUBLIC_URL}/v1/webhooks/twilio/status`, fields),
  ) =>
    fetch(`${baseUrl}/v1/webhooks/twilio/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(fields).toString(),
    });

  it('sends an email through SES with layout, partials, money, tracked links and the unsubscribe headers', async () => {
    const req = request('email');
    await send.execute([req]);
    const call = ses.calls.at(-1)!;
    expect(call.status).toBe(200);
    expect(call.fields['Tags.member.1.Value']).toBe(req.messageId);
    const mime = call.mime.replace(/=\r\n/g, '');
    expect(mime).toMatch(/^List-Unsubscribe: <https:\/\/m\.example\.com\/u\/[\w-]+\.[\w-]+>\r$/m);
    expect(mime).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(mime).toContain('You spent $170.00');
    expect(mime).toMatch(/<a href=3D"https:\/\/m\.example\.com\/t\/c\/[\w-]+\.[\w-]+">Shop<\/a>/);
    expect(mime).toMatch(/<img src=3D"https:\/\/m\.example\.com\/t\/o\/[\w-]+\.[\w-]+"/);
    expect(mime).toMatch(
      /<footer><a href=3D"https:\/\/m\.example\.com\/u\/[\w-]+\.[\w-]+">Unsubscribe<\/a><\/footer>/,
    );
    expect(await messagesOf(req.customerId)).toMatchObject([
      { messageId: req.messageId, status: 'sent', to: `${req.customerId}@example.com` },
    ]);
    expect(eventsOf(req.messageId)).toEqual(['sent']);
  });

  it('sends nothing twice when a request is redelivered', async () => {
    const req = request('sms');
    const before = twilio.calls.length;
    await send.execute([req, req]);
    await send.execute([req]);
    expect(twilio.calls.length - before).toBe(1);
    expect(twilio.calls.at(-1)!.fields).toEqual({
      To: '+14155550100',
      From: '+14155550199',
      Body: 'Hi Ann, since Friday, January 1, 2027',
      StatusCallback: `${PUBLIC_URL}/v1/webhooks/twilio/status`,
    });
    expect(eventsOf(req.messageId)).toEqual(['sent']);
  });

  it("publishes a first send's status on its request's redelivery when the publish failed, sending nothing twice", async () => {
    const sent = request('sms');
    const suppressed = request('sms', { suppressedReason: 'frequency_cap' });
    const before = twilio.calls.length;
    const publish = bus.publish.bind(bus);
    const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, messages) => {
      if (topic.name === MessagesEventsTopic.name) throw new Error('broker down');
      return publish(topic, messages);
    });
    await expect(send.execute([sent, suppressed])).rejects.toThrow('broker down');
    spy.mockRestore();
    expect(eventsOf(sent.messageId)).toEqual([]);
    expect(eventsOf(suppressed.messageId)).toEqual([]);

    // The bus redelivers the batch: both were recorded, so their statuses are read back and published.
    await send.execute([sent, suppressed]);
    expect(eventsOf(sent.messageId)).toEqual(['sent']);
    expect(eventsOf(suppressed.messageId)).toEqual(['suppressed/frequency_cap']);
    expect(twilio.calls.length - before).toBe(1);
    const { rows } = await db.query(
      'SELECT message_id FROM delivery.status_outbox WHERE message_id = ANY($1) AND published_at IS NULL',
      [[sent.messageId, suppressed.messageId]],
    );
    expect(rows).toEqual([]);
  });

  it('never resends a message killed between the provider call and its record: outcome_unknown', async () => {
    const req = request('email');
    const store = app.get(MessageLedgerStore);
    const record = store.recordOutcomes.bind(store);
    const spy = jest.spyOn(store, 'recordOutcomes').mockImplementation(async (outcomes, now, tx) => {
      if (outcomes.some((o) => o.status === 'sent')) throw new Error('killed after the provider call');
      return record(outcomes, now, tx);
    });
    const before = ses.calls.length;
    await expect(send.execute([req])).rejects.toThrow('killed after the provider call');
    spy.mockRestore();
    expect(ses.calls.length - before).toBe(1);

    await send.execute([req]); // the redelivery after the restart
    expect(ses.calls.length - before).toBe(1);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'failed', reason: 'outcome_unknown' }]);
    expect(eventsOf(req.messageId)).toEqual(['failed/outcome_unknown']);
  });

  it('hands a batch to providers a chunk at a time, so a kill strands nothing beyond the chunk in flight', async () => {
    const reqs = Array.from({ length: HANDOVER_CHUNK + 8 }, () => request('email'));
    const store = app.get(MessageLedgerStore);
    const handOver = store.handOver.bind(store);
    const chunkSizes: number[] = [];
    // The process dies as the second chunk is about to be handed over.
    const spy = jest.spyOn(store, 'handOver').mockImplementation(async (messages, now) => {
      chunkSizes.push(messages.length);
      if (chunkSizes.length === 2) throw new Error('killed before the second chunk');
      return handOver(messages, now);
    });
    const before = ses.calls.length;
    await expect(send.execute(reqs)).rejects.toThrow('killed before the second chunk');
    spy.mockRestore();
    expect(chunkSizes).toEqual([HANDOVER_CHUNK, 8]);
    expect(ses.calls.length - before).toBe(HANDOVER_CHUNK);

    await send.execute(reqs); // the redelivery after the restart
    const sent = ses.calls.slice(before).map((call) => call.fields['Tags.member.1.Value']);
    expect(sent).toHaveLength(reqs.length);
    expect(new Set(sent)).toEqual(new Set(reqs.map((r) => r.messageId)));
    for (const req of reqs) {
      expect(await messagesOf(req.customerId)).toMatchObject([{ messageId: req.messageId, status: 'sent' }]);
    }
  });

  it('retries a throttled SMS with exponential backoff on the clock, then sends it once', async () => {
    const req = request('sms');
    const before = twilio.calls.length;
    twilio.failNextWith(429, 20429, 'Too Many Requests');
    twilio.failNextWith(503, 20503, 'Service Unavailable');
    await send.execute([req]);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'queued' }]);
    expect(eventsOf(req.messageId)).toEqual([]);

    expect(await retries.execute()).toBe(0);
    clock.advanceBy(499); // attempt 1 failed: half (the pinned jitter) of 1 s
    expect(await retries.execute()).toBe(0);
    clock.advanceBy(1);
    expect(await retries.execute()).toBe(1); // fails again: half of 2 s
    clock.advanceBy(999);
    expect(await retries.execute()).toBe(0);
    clock.advanceBy(1);
    expect(await retries.execute()).toBe(1);
    expect(twilio.calls.length - before).toBe(3);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'sent', reason: null }]);
    expect(eventsOf(req.messageId)).toEqual(['sent']);
    const { rows } = await db.query(
      'SELECT attempts, next_attempt_at, pending_outbound, last_error FROM delivery.messages WHERE message_id = $1',
      [req.messageId],
    );
    expect(rows).toEqual([
      { attempts: 3, next_attempt_at: null, pending_outbound: null, last_error: 'twilio_20503' },
    ]);
  });

  it('dead-letters a message whose retries ran out, and fails a rejected one at once', async () => {
    const exhausted = request('sms');
    await failUntilTheLastRetryIsDue(exhausted);
    await retries.execute();
    expect(await messagesOf(exhausted.customerId)).toMatchObject([
      { status: 'failed', reason: 'retries_exhausted' },
    ]);
    const { rows } = await db.query(
      'SELECT provider, attempts, last_error, outbound FROM delivery.dead_letters WHERE message_id = $1',
      [exhausted.messageId],
    );
    expect(rows).toEqual([
      {
        provider: 'twilio',
        attempts: 3,
        last_error: 'twilio_20500',
        outbound: expect.objectContaining({ messageId: exhausted.messageId, to: '+14155550100' }),
      },
    ]);
    clock.advanceBy(60_000);
    expect(await retries.execute()).toBe(0);
    // The original request goes to messages.requested.v1's DLQ topic, once, with why.
    expect(deadLettersOf(exhausted.customerId)).toEqual([
      {
        value: exhausted,
        headers: {
          'dlq-reason': 'retries_exhausted after 3 attempts (last error: twilio_20500)',
          'dlq-source-topic': 'messages.requested.v1',
          'dlq-consumer-group': 'delivery',
          'dlq-attempts': '3',
          'dlq-last-error': 'twilio_20500',
          'content-type': 'application/json',
          'schema-version': '1',
        },
      },
    ]);
    const marked = await db.query('SELECT published_at FROM delivery.dead_letters WHERE message_id = $1', [
      exhausted.messageId,
    ]);
    expect(marked.rows).toEqual([{ published_at: expect.any(Date) }]);

    const rejected = request('sms');
    twilio.failNextWith(400, 21211, "The 'To' number is not a valid phone number.");
    await send.execute([rejected]);
    expect(await messagesOf(rejected.customerId)).toMatchObject([
      { status: 'failed', reason: 'provider_rejected' },
    ]);
    expect(eventsOf(rejected.messageId)).toEqual(['failed/provider_rejected']);
  });

  it('publishes a dead letter whose publish failed from the sweep after its lease, once', async () => {
    const exhausted = request('sms');
    await failUntilTheLastRetryIsDue(exhausted);
    const spy = jest.spyOn(bus, 'publishRaw').mockRejectedValueOnce(new Error('broker down'));
    await expect(retries.execute()).rejects.toThrow('broker down');
    spy.mockRestore();
    expect(await messagesOf(exhausted.customerId)).toMatchObject([
      { status: 'failed', reason: 'retries_exhausted' },
    ]);
    expect(deadLettersOf(exhausted.customerId)).toEqual([]);
    clock.advanceBy(29_000);
    await retries.execute();
    expect(deadLettersOf(exhausted.customerId)).toEqual([]); // within the lease
    clock.advanceBy(1_001);
    await retries.execute();
    await retries.execute();
    expect(deadLettersOf(exhausted.customerId).map((l) => l.value)).toEqual([exhausted]);
  });

  it("publishes a retry's status whose publish failed from the sweep after its lease, once", async () => {
    const req = request('sms');
    const before = twilio.calls.length;
    twilio.failNextWith(429, 20429, 'Too Many Requests');
    await send.execute([req]);
    expect(eventsOf(req.messageId)).toEqual([]);
    const publish = bus.publish.bind(bus);
    // The broker refuses every status event while the retry succeeds; nobody redelivers a retry.
    const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, messages) => {
      if (topic.name === MessagesEventsTopic.name) throw new Error('broker down');
      return publish(topic, messages);
    });
    clock.advanceBy(500);
    const sentAt = clock.now().toISOString();
    await expect(retries.execute()).rejects.toThrow('broker down');
    spy.mockRestore();
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'sent' }]);
    expect(eventsOf(req.messageId)).toEqual([]);

    clock.advanceBy(30_000);
    await retries.execute();
    expect(eventsOf(req.messageId)).toEqual([]); // within the lease
    clock.advanceBy(1);
    await retries.execute();
    await retries.execute();
    expect(statusRecordsOf(req.messageId)).toEqual([
      {
        key: req.customerId,
        value: {
          schemaVersion: 1,
          messageId: req.messageId,
          customerId: req.customerId,
          journeyKey: 'hello_journey',
          stepId: 'hello',
          milestoneKey: 'second_order',
          channel: 'sms',
          template: 'hello_sms',
          variant: null,
          status: 'sent',
          reason: null,
          occurredAt: sentAt,
        },
      },
    ]);
    const { rows } = await db.query('SELECT published_at FROM delivery.status_outbox WHERE message_id = $1', [
      req.messageId,
    ]);
    expect(rows).toEqual([{ published_at: clock.now() }]);
    expect(twilio.calls.length - before).toBe(2);
  });

  it('never republishes from the sweep a status whose publish after its commit succeeded', async () => {
    const req = request('email');
    await send.execute([req]);
    expect(eventsOf(req.messageId)).toEqual(['sent']);
    clock.advanceBy(30_001);
    await retries.execute();
    await retries.execute();
    expect(eventsOf(req.messageId)).toEqual(['sent']);
  });

  it("publishes a receipt's status whose publish failed from the sweep, which a repeated webhook does not", async () => {
    const req = request('sms');
    await send.execute([req]);
    const fields = {
      MessageSid: await providerMessageIdOf(req.messageId),
      MessageStatus: 'delivered',
      To: '+14155550100',
      AccountSid: TWILIO_TEST_ACCOUNT_SID,
    };
    const post = () => postTwilioStatus(fields);
    const publish = bus.publish.bind(bus);
    const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, messages) => {
      if (topic.name === MessagesEventsTopic.name) throw new Error('broker down');
      return publish(topic, messages);
    });
    expect((await post()).status).toBe(500);
    spy.mockRestore();
    // Twilio calls again: the status is already recorded, so nothing new is written or published.
    expect(await (await post()).json()).toEqual({ received: 1, applied: 0 });
    expect(eventsOf(req.messageId)).toEqual(['sent']);

    clock.advanceBy(30_001);
    await retries.execute();
    await retries.execute();
    expect(eventsOf(req.messageId)).toEqual(['sent', 'delivered']);
  });

  it('fails a retry lost between its provider call and its record as outcome_unknown, an hour on, without resending', async () => {
    const req = request('sms');
    const before = twilio.calls.length;
    twilio.failNextWith(429, 20429, 'Too Many Requests');
    await send.execute([req]);
    const store = app.get(MessageLedgerStore);
    const record = store.recordOutcomes.bind(store);
    const spy = jest.spyOn(store, 'recordOutcomes').mockImplementation(async (outcomes, now, tx) => {
      if (outcomes.some((o) => o.messageId === req.messageId))
        throw new Error('killed after the provider call');
      return record(outcomes, now, tx);
    });
    clock.advanceBy(500);
    await expect(retries.execute()).rejects.toThrow('killed after the provider call');
    spy.mockRestore();
    expect(twilio.calls.length - before).toBe(2);

    clock.advanceBy(59 * 60_000);
    await retries.execute();
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'queued' }]);
    clock.advanceBy(60_000);
    await retries.execute();
    await send.execute([req]); // a late redelivery changes nothing either
    expect(twilio.calls.length - before).toBe(2);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'failed', reason: 'outcome_unknown' }]);
    expect(eventsOf(req.messageId)).toEqual(['failed/outcome_unknown']);
  });

  it('waits out FCM QUOTA_EXCEEDED for its Retry-After', async () => {
    const req = request('push');
    fcm.failNextWithQuota(17);
    await send.execute([req]);
    clock.advanceBy(16_999);
    expect(await retries.execute()).toBe(0);
    clock.advanceBy(1);
    expect(await retries.execute()).toBe(1);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'sent' }]);
  });

  it('stops using a push token FCM reported unregistered', async () => {
    const gone = `${UNREGISTERED_TOKEN_PREFIX}c1`;
    const first = request('push', {}, { pushTokens: ['token-live', gone] });
    await send.execute([first]);
    const second = request(
      'push',
      { customerId: first.customerId, messageId: `${first.messageId}_2` },
      { pushTokens: ['token-live', gone] },
    );
    const before = fcm.calls.length;
    await send.execute([second]);
    expect(fcm.calls.slice(before).map((c) => c.token)).toEqual(['token-live']);
    const { rows } = await db.query(
      'SELECT token, customer_id, provider FROM delivery.unregistered_push_tokens WHERE customer_id = $1',
      [first.customerId],
    );
    expect(rows).toEqual([{ token: gone, customer_id: first.customerId, provider: 'fcm' }]);
  });

  it('fails only the message whose template does not render', async () => {
    const broken = request('sms', { template: 'broken_sms' });
    const fine = request('sms');
    await send.execute([broken, fine]);
    expect(await messagesOf(broken.customerId)).toMatchObject([{ status: 'failed', reason: 'render_error' }]);
    expect(await messagesOf(fine.customerId)).toMatchObject([{ status: 'sent' }]);
  });

  it('turns SES notifications into delivered, bounced and complaint events', async () => {
    const delivered = request('email');
    const bounced = request('email');
    await send.execute([delivered, bounced]);
    const post = (message: unknown) =>
      fetch(`${baseUrl}/v1/webhooks/ses`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
        body: JSON.stringify(
          sns.sign({
            Type: 'Notification',
            TopicArn: 'arn:aws:sns:us-east-1:1:ses',
            Message: JSON.stringify(message),
          }),
        ),
      });
    const deliveredId = await providerMessageIdOf(delivered.messageId);
    const answer = await post({
      notificationType: 'Delivery',
      mail: { messageId: deliveredId },
      delivery: { timestamp: '2027-03-15T14:00:05.000Z', recipients: [] },
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: 1, applied: 1 });
    await post({
      notificationType: 'Delivery',
      mail: { messageId: deliveredId },
      delivery: { recipients: [] },
    }); // SNS redelivers
    await post({
      notificationType: 'Complaint',
      mail: { messageId: deliveredId },
      complaint: { complainedRecipients: [{ emailAddress: 'x@example.com' }] },
    });
    await post({
      notificationType: 'Bounce',
      mail: { messageId: await providerMessageIdOf(bounced.messageId) },
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'x@example.com' }],
      },
    });
    expect(eventsOf(delivered.messageId)).toEqual(['sent', 'delivered', 'delivered/complaint']);
    expect(eventsOf(bounced.messageId)).toEqual(['sent', 'bounced/permanent_bounce:General']);
    expect(
      bus
        .messagesOn(MessagesEventsTopic.name)
        .find(
          (m) =>
            (m.value as { status: string; messageId: string }).messageId === delivered.messageId &&
            (m.value as { status: string }).status === 'delivered',
        )?.value,
    ).toMatchObject({
      occurredAt: '2027-03-15T14:00:05.000Z',
    });
    expect(await messagesOf(bounced.customerId)).toMatchObject([
      { status: 'bounced', reason: 'permanent_bounce:General' },
    ]);
  });

  it('confirms a signed SNS subscription by visiting its SubscribeURL, and only logs one pointing elsewhere', async () => {
    const confirmation = (token: string, subscribeUrl: string) =>
      fetch(`${baseUrl}/v1/webhooks/ses`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(
          sns.sign(
            {
              Type: 'SubscriptionConfirmation',
              Token: token,
              Message: 'You have chosen to subscribe to the topic.',
              TopicArn: 'arn:aws:sns:us-east-1:1:ses',
              SubscribeURL: subscribeUrl,
            },
            { version: '2' },
          ),
        ),
      });
    const confirmed = await confirmation('token-1', sns.subscribeUrl('token-1'));
    expect(await confirmed.json()).toEqual({ received: 0, applied: 0, subscription: 'confirmed' });
    expect(sns.confirmedTokens).toEqual(['token-1']);

    // Signed, but not on the host that served the certificate: nothing is visited.
    const elsewhere = await confirmation(
      'token-2',
      'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=token-2',
    );
    expect(await elsewhere.json()).toEqual({ received: 0, applied: 0, subscription: 'confirmation_logged' });
    expect(sns.confirmedTokens).toEqual(['token-1']);
  });

  it('refuses with 403 an SNS message unsigned, badly signed or naming an untrusted certificate, and changes nothing', async () => {
    const req = request('email');
    await send.execute([req]);
    const envelope = {
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:1:ses',
      Message: JSON.stringify({
        notificationType: 'Bounce',
        mail: { messageId: await providerMessageIdOf(req.messageId) },
        bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [] },
      }),
    };
    const post = async (body: string) => {
      const answer = await fetch(`${baseUrl}/v1/webhooks/ses`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body,
      });
      return {
        status: answer.status,
        body: (await answer.json()) as { error: { code: string; message: string } },
      };
    };
    const fetchesBefore = sns.certFetches;
    const forged = sns.sign(envelope, {
      overrides: { Message: envelope.Message.replace('Permanent', 'Transient') },
    });
    const answers = [
      await post(JSON.stringify(envelope)),
      await post(JSON.stringify(forged)),
      await post(
        JSON.stringify({
          ...forged,
          Message: envelope.Message,
          Signature: sns.sign(envelope)['Signature']!.slice(4),
        }),
      ),
      await post(
        JSON.stringify(
          sns.sign(envelope, {
            overrides: { SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' },
          }),
        ),
      ),
      await post('hello'),
    ];
    expect(answers).toEqual([
      {
        status: 403,
        body: {
          error: { code: 'forbidden', message: 'webhook rejected: unsigned, or an unknown SignatureVersion' },
        },
      },
      {
        status: 403,
        body: { error: { code: 'forbidden', message: 'webhook rejected: the SNS signature does not match' } },
      },
      {
        status: 403,
        body: { error: { code: 'forbidden', message: 'webhook rejected: the SNS signature does not match' } },
      },
      {
        status: 403,
        body: {
          error: {
            code: 'forbidden',
            message: 'webhook rejected: SigningCertURL is not a trusted SNS certificate URL',
          },
        },
      },
      {
        status: 403,
        body: {
          error: {
            code: 'forbidden',
            message: 'webhook rejected: not a signed SNS message (the body is not JSON)',
          },
        },
      },
    ]);
    expect(eventsOf(req.messageId)).toEqual(['sent']);
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'sent', reason: null }]);

    // The same message properly signed is applied; the certificate was fetched once, then cached.
    expect((await post(JSON.stringify(sns.sign(envelope)))).status).toBe(200);
    expect(eventsOf(req.messageId)).toEqual(['sent', 'bounced/permanent_bounce:General']);
    expect(sns.certFetches - fetchesBefore).toBeLessThanOrEqual(1);
    expect(sns.certFetches).toBe(1);
  });

  it('accepts only correctly signed Twilio status callbacks', async () => {
    const req = request('sms');
    await send.execute([req]);
    const fields = {
      MessageSid: await providerMessageIdOf(req.messageId),
      MessageStatus: 'undelivered',
      ErrorCode: '30005',
      To: '+14155550100',
      AccountSid: TWILIO_TEST_ACCOUNT_SID,
    };
    expect((await postTwilioStatus(fields, 'forged')).status).toBe(401);
    expect(eventsOf(req.messageId)).toEqual(['sent']);
    expect((await postTwilioStatus(fields)).status).toBe(200);
    expect(eventsOf(req.messageId)).toEqual(['sent', 'failed/twilio_30005']);
  });

  it('previews a template for a sample profile or a known customer, and test-sends it', async () => {
    const preview = async (name: string, body: unknown) => {
      const res = await fetch(`${baseUrl}/v1/templates/${name}/preview`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-key', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { body?: string; testSend?: unknown } };
    };
    expect(
      await preview('hello_sms', {
        profile: {
          traits: { firstName: 'Bo', locale: 'fr-FR' },
          attributes: { registeredAt: '2027-01-01T15:00:00Z' },
        },
      }),
    ).toEqual({
      status: 200,
      body: {
        template: 'hello_sms',
        channel: 'sms',
        subject: null,
        html: null,
        text: null,
        title: null,
        body: 'Hi Bo, since vendredi 1 janvier 2027',
      },
    });
    const known = request('sms');
    await send.execute([known]);
    expect((await preview('hello_sms', { customerId: known.customerId })).body.body).toBe(
      'Hi Ann, since Friday, January 1, 2027',
    );
    expect((await preview('hello_sms', { customerId: 'c-nobody' })).status).toBe(404);
    expect((await preview('nope', { customerId: known.customerId })).status).toBe(404);
    expect((await preview('hello_sms', {})).status).toBe(400);

    const before = twilio.calls.length;
    const sent = await preview('hello_sms', { customerId: known.customerId, sendTo: '+14155550177' });
    expect(sent.body.testSend).toEqual({
      to: '+14155550177',
      provider: 'twilio',
      providerMessageId: expect.stringMatching(/^SM/),
    });
    expect(twilio.calls.slice(before).map((c) => c.fields['To'])).toEqual(['+14155550177']);
  });

  it('consumes messages.requested.v1 from the bus', async () => {
    const req = request('email');
    await bus.publish(MessagesRequestedTopic, [{ key: req.customerId, value: req }]);
    await bus.whenIdle();
    expect(await messagesOf(req.customerId)).toMatchObject([{ status: 'sent' }]);
  });
});
