import { parseSesWebhook } from './ses-receipts';

const sns = (message: unknown) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-1',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:ses-receipts',
    Message: JSON.stringify(message),
  });
const request = (rawBody: string) => ({ url: 'https://m.example.com/v1/webhooks/ses', headers: {}, rawBody });

describe('SES receipts through SNS', () => {
  it('reads a delivery', () => {
    const outcome = parseSesWebhook(
      request(
        sns({
          notificationType: 'Delivery',
          mail: { messageId: 'ses-1' },
          delivery: { timestamp: '2027-03-15T10:00:01.000Z', recipients: ['ann@example.com'] },
        }),
      ),
    );
    expect(outcome).toEqual({
      kind: 'receipts',
      receipts: [
        {
          providerMessageId: 'ses-1',
          status: 'delivered',
          reason: null,
          address: 'ann@example.com',
          occurredAt: '2027-03-15T10:00:01.000Z',
        },
      ],
    });
  });

  it('reads a permanent bounce per recipient, and an event-publishing complaint', () => {
    expect(
      parseSesWebhook(
        request(
          sns({
            notificationType: 'Bounce',
            mail: { messageId: 'ses-2' },
            bounce: {
              bounceType: 'Permanent',
              bounceSubType: 'General',
              bouncedRecipients: [{ emailAddress: 'gone@example.com' }],
              timestamp: '2027-03-15T10:00:02.000Z',
            },
          }),
        ),
      ),
    ).toEqual({
      kind: 'receipts',
      receipts: [
        {
          providerMessageId: 'ses-2',
          status: 'bounced',
          reason: 'permanent_bounce:General',
          address: 'gone@example.com',
          occurredAt: '2027-03-15T10:00:02.000Z',
        },
      ],
    });
    expect(
      parseSesWebhook(
        request(
          sns({
            eventType: 'Complaint',
            mail: { messageId: 'ses-3' },
            complaint: { complainedRecipients: [{ emailAddress: 'ann@example.com' }] },
          }),
        ),
      ),
    ).toMatchObject({
      kind: 'receipts',
      receipts: [{ providerMessageId: 'ses-3', status: 'complained', reason: 'complaint' }],
    });
  });

  it('hands a subscription confirmation back instead of visiting its URL', () => {
    const body = JSON.stringify({
      Type: 'SubscriptionConfirmation',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:ses-receipts',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
    });
    expect(parseSesWebhook(request(body))).toEqual({
      kind: 'subscription',
      topic: 'arn:aws:sns:us-east-1:123456789012:ses-receipts',
      confirmUrl: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
    });
  });

  it('rejects what is not an SNS message', () => {
    expect(parseSesWebhook(request('{"hello":1}'))).toMatchObject({ kind: 'rejected' });
    expect(parseSesWebhook(request('<xml/>'))).toMatchObject({ kind: 'rejected' });
  });
});
