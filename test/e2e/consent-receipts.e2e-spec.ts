import { InMemoryBus } from '@mmp/bus';
import { startSesFake, startSnsFake, type SesFake, type SnsFake } from '@mmp/channel-testing';
import { AppConfig } from '@mmp/config';
import { ConsentModule } from '@mmp/consent-service';
import { MessagesEventsTopic, MessagesRequestedTopic, type MessageRequestedV1 } from '@mmp/contracts';
import { DeliveryModule } from '@mmp/delivery-service';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import { useTestDatabase } from '../support';

/**
 * Bounces and complaints end to end through the real SES SDK and its loopback fake: delivery
 * turns the SNS notification into a messages.events.v1 event, consent turns that into a
 * suppression-list entry or an email opt-out on consent.changes.v1, and delivery's next send
 * to that address or customer is suppressed.
 */
const PROGRAM = `
policies:
  timezone: America/New_York
  consent: { email: opt-out, sms: opt-in, push: opt-in }
templates:
  hello_email: { channel: email, subject: 'Hello {{customer.firstName}}', html: '<p>Hi</p>', text: 'Hi' }
`;

describe('bounces and complaints from SES reach the suppression list and consent', () => {
  const database = useTestDatabase();
  let app: INestApplication;
  let baseUrl: string;
  let bus: InMemoryBus;
  let ses: SesFake;
  let sns: SnsFake;
  let db: Client;

  beforeAll(async () => {
    [ses, sns] = await Promise.all([startSesFake(), startSnsFake()]);
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIDLOCAL';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'local-secret';
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      LOG_LEVEL: 'error',
      EMAIL_PROVIDER: 'ses',
      EMAIL_FROM: 'Shop <shop@example.com>',
      SES_ENDPOINT: ses.endpoint,
      SNS_CERT_URL_PATTERN: sns.certUrlPattern,
    });
    bus = new InMemoryBus();
    app = await startServices({
      name: 'delivery+consent',
      services: [DeliveryModule, ConsentModule],
      config,
      bus,
      program: new ProgramStore(parseProgram(PROGRAM)),
    });
    baseUrl = await loopbackUrlOf(app);
    db = await database.connect();
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([ses?.stop(), sns?.stop()]);
  });

  let sequence = 0;
  async function send(customerId: string, email: string): Promise<string> {
    sequence += 1;
    const request: MessageRequestedV1 = {
      schemaVersion: 1,
      messageId: `msg_receipt_${sequence}`,
      customerId,
      journeyKey: 'hello_journey',
      journeyVersion: 'v1',
      instanceId: `i-${sequence}`,
      stepId: 'hello',
      milestoneKey: 'second_order',
      occurrenceId: `o-${sequence}`,
      template: 'hello_email',
      channel: 'email',
      variant: null,
      requestedAt: new Date().toISOString(),
      milestone: { key: 'second_order', occurrence: '2' },
      offer: null,
      customer: {
        customerId,
        traits: { firstName: 'Ann', email },
        attributes: {
          lifetimeOrders: 2,
          lifetimeValue: '170.00',
          currency: 'USD',
          firstOrderAt: null,
          lastOrderAt: null,
          registeredAt: null,
          eventCounts: {},
        },
      },
    };
    await bus.publish(MessagesRequestedTopic, [{ key: customerId, value: request }]);
    await bus.whenIdle();
    return request.messageId;
  }
  const outcomeOf = async (messageId: string) => {
    const { rows } = await db.query<{
      status: string;
      reason: string | null;
      provider_message_id: string | null;
    }>('SELECT status, reason, provider_message_id FROM delivery.messages WHERE message_id = $1', [
      messageId,
    ]);
    return rows[0]!;
  };
  const notify = async (message: unknown) => {
    const answer = await fetch(`${baseUrl}/v1/webhooks/ses`, {
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
    expect(answer.status).toBe(200);
    await bus.whenIdle();
  };
  const bounce = async (messageId: string, bounceType: 'Permanent' | 'Transient', address: string) =>
    notify({
      notificationType: 'Bounce',
      mail: { messageId: (await outcomeOf(messageId)).provider_message_id },
      bounce: {
        bounceType,
        bounceSubType: bounceType === 'Permanent' ? 'General' : 'MailboxFull',
        bouncedRecipients: [{ emailAddress: address }],
      },
    });
  const consentOf = async (customerId: string) =>
    (await (
      await fetch(`${baseUrl}/v1/customers/${customerId}/consent`, {
        headers: { authorization: 'Bearer test-key' },
      })
    ).json()) as {
      channels: { channel: string; status: string; source: string | null }[];
      suppressedAddresses: { channel: string; address: string; source: string }[];
    };

  it('suppresses the address of a permanent bounce for every later send to it, whoever it is for', async () => {
    const first = await send('c-hard-bounce', 'Hard.Bounce@example.com');
    expect(await outcomeOf(first)).toMatchObject({ status: 'sent' });
    await bounce(first, 'Permanent', 'Hard.Bounce@example.com');

    const bounced = bus
      .messagesOn(MessagesEventsTopic.name)
      .map((m) => m.value as { messageId: string; status: string; address?: string })
      .find((e) => e.messageId === first && e.status === 'bounced');
    expect(bounced).toMatchObject({ address: 'Hard.Bounce@example.com' });
    expect((await consentOf('c-hard-bounce')).suppressedAddresses).toEqual([
      {
        channel: 'email',
        address: 'hard.bounce@example.com',
        source: 'permanent_bounce:General',
        since: expect.any(String),
      },
    ]);

    const callsBefore = ses.calls.length;
    const again = await send('c-hard-bounce', 'hard.bounce@example.com');
    const sharedAddress = await send('c-same-mailbox', 'HARD.BOUNCE@EXAMPLE.COM');
    const newAddress = await send('c-hard-bounce', 'new.address@example.com');
    expect(await outcomeOf(again)).toMatchObject({ status: 'suppressed', reason: 'suppression_list' });
    expect(await outcomeOf(sharedAddress)).toMatchObject({
      status: 'suppressed',
      reason: 'suppression_list',
    });
    expect(await outcomeOf(newAddress)).toMatchObject({ status: 'sent' });
    expect(ses.calls.length - callsBefore).toBe(1);
  });

  it('suppresses nothing on a transient bounce', async () => {
    const first = await send('c-soft-bounce', 'soft@example.com');
    await bounce(first, 'Transient', 'soft@example.com');
    expect((await consentOf('c-soft-bounce')).suppressedAddresses).toEqual([]);
    expect(await outcomeOf(await send('c-soft-bounce', 'soft@example.com'))).toMatchObject({
      status: 'sent',
    });
  });

  it('opts the customer out of email on a complaint', async () => {
    const first = await send('c-complains', 'complains@example.com');
    await notify({
      notificationType: 'Complaint',
      mail: { messageId: (await outcomeOf(first)).provider_message_id },
      complaint: { complainedRecipients: [{ emailAddress: 'complains@example.com' }] },
    });
    expect((await consentOf('c-complains')).channels.find((c) => c.channel === 'email')).toMatchObject({
      status: 'opted_out',
      source: 'complaint',
    });
    expect(await outcomeOf(await send('c-complains', 'complains@example.com'))).toMatchObject({
      status: 'suppressed',
      reason: 'consent',
    });
  });
});
