import {
  describeChannelConformance,
  sampleMessage,
  startTwilioFake,
  TWILIO_TEST_ACCOUNT_SID,
  TWILIO_TEST_AUTH_TOKEN,
  type TwilioFake,
} from '@mmp/channel-testing';
import { getExpectedTwilioSignature } from 'twilio';
import { parseTwilioWebhook } from './twilio-receipts';
import { classifyTwilioError, twilioPlugin } from './twilio.plugin';

describeChannelConformance({
  plugin: twilioPlugin,
  invalidSettings: [
    {},
    { from: '+14155550199', twilioAccountSid: 'nope', twilioAuthToken: TWILIO_TEST_AUTH_TOKEN },
    {
      from: 'not a sender!',
      twilioAccountSid: TWILIO_TEST_ACCOUNT_SID,
      twilioAuthToken: TWILIO_TEST_AUTH_TOKEN,
    },
  ],
  startFake: startTwilioFake,
});

describe('the Twilio plugin, against its loopback fake', () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => fake.stop());

  it('posts exactly these form fields, with basic auth, to the account Messages resource', async () => {
    const sender = twilioPlugin.create(twilioPlugin.settingsSchema.parse(fake.settings));
    const { providerMessageId } = await sender.send(
      sampleMessage('sms', { body: 'Happy birthday Ann! Reply STOP to opt out' }),
    );
    const call = fake.calls.at(-1)!;
    expect(call.path).toBe(`/2010-04-01/Accounts/${TWILIO_TEST_ACCOUNT_SID}/Messages.json`);
    expect(call.fields).toEqual({
      To: '+14155550100',
      From: '+14155550199',
      Body: 'Happy birthday Ann! Reply STOP to opt out',
      StatusCallback: 'https://m.example.com/v1/webhooks/twilio/status',
    });
    expect(call.authorization).toBe(
      `Basic ${Buffer.from(`${TWILIO_TEST_ACCOUNT_SID}:${TWILIO_TEST_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('sends from a Messaging Service when SMS_FROM is one', async () => {
    const sender = twilioPlugin.create(
      twilioPlugin.settingsSchema.parse({ ...(fake.settings as object), from: `MG${'a'.repeat(32)}` }),
    );
    await sender.send(sampleMessage('sms'));
    expect(fake.calls.at(-1)!.fields).toMatchObject({ MessagingServiceSid: `MG${'a'.repeat(32)}` });
    expect(fake.calls.at(-1)!.fields['From']).toBeUndefined();
  });

  it.each([
    [429, 20429, 'retryable'],
    [500, 20500, 'retryable'],
    [503, 20503, 'retryable'],
    [400, 21211, 'permanent'],
    [400, 21610, 'permanent'],
  ] as const)('classifies HTTP %s code %s as %s', async (status, code, kind) => {
    const sender = twilioPlugin.create(twilioPlugin.settingsSchema.parse(fake.settings));
    fake.failNextWith(status, code, 'no');
    const error = await sender.send(sampleMessage('sms')).catch((e: unknown) => e);
    expect(classifyTwilioError(error)).toEqual({ kind, reason: `twilio_${code}` });
  });
});

describe('Twilio status callbacks', () => {
  const url = 'https://m.example.com/v1/webhooks/twilio/status';
  const fields = {
    MessageSid: 'SM1',
    MessageStatus: 'delivered',
    To: '+14155550100',
    AccountSid: TWILIO_TEST_ACCOUNT_SID,
  };
  const body = new URLSearchParams(fields).toString();

  it('accepts a correctly signed callback', () => {
    const signature = getExpectedTwilioSignature(TWILIO_TEST_AUTH_TOKEN, url, fields);
    expect(
      parseTwilioWebhook(
        { url, headers: { 'x-twilio-signature': signature }, rawBody: body },
        TWILIO_TEST_AUTH_TOKEN,
      ),
    ).toEqual({
      kind: 'receipts',
      receipts: [
        {
          providerMessageId: 'SM1',
          status: 'delivered',
          reason: null,
          address: '+14155550100',
          occurredAt: null,
        },
      ],
    });
  });

  it('maps undelivered with its error code to failed', () => {
    const failed = { ...fields, MessageStatus: 'undelivered', ErrorCode: '30005' };
    const signature = getExpectedTwilioSignature(TWILIO_TEST_AUTH_TOKEN, url, failed);
    expect(
      parseTwilioWebhook(
        {
          url,
          headers: { 'x-twilio-signature': signature },
          rawBody: new URLSearchParams(failed).toString(),
        },
        TWILIO_TEST_AUTH_TOKEN,
      ),
    ).toMatchObject({ kind: 'receipts', receipts: [{ status: 'failed', reason: 'twilio_30005' }] });
  });

  it('rejects a tampered body, another token and a missing signature', () => {
    const signature = getExpectedTwilioSignature(TWILIO_TEST_AUTH_TOKEN, url, fields);
    const tampered = new URLSearchParams({ ...fields, MessageStatus: 'failed' }).toString();
    expect(
      parseTwilioWebhook(
        { url, headers: { 'x-twilio-signature': signature }, rawBody: tampered },
        TWILIO_TEST_AUTH_TOKEN,
      ),
    ).toMatchObject({ kind: 'rejected' });
    expect(
      parseTwilioWebhook(
        { url, headers: { 'x-twilio-signature': signature }, rawBody: body },
        'another-token-1',
      ),
    ).toMatchObject({ kind: 'rejected' });
    expect(parseTwilioWebhook({ url, headers: {}, rawBody: body }, TWILIO_TEST_AUTH_TOKEN)).toMatchObject({
      kind: 'rejected',
    });
  });
});
