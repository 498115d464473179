import { describeChannelConformance, sampleMessage, startSesFake, type SesFake } from '@mmp/channel-testing';
import { composeRawEmail } from './compose-raw-email';
import { sesPlugin } from './ses.plugin';

describeChannelConformance({
  plugin: sesPlugin,
  invalidSettings: [
    {},
    { from: 'Shop <shop@example.com>', sesRegion: 'moon-1' },
    { from: 'Shop <shop@example.com>', sesRegion: 'us-east-1', sesEndpoint: 'not a url' },
  ],
  startFake: startSesFake,
});

const longUnsubscribe = `<https://messages.example.com/u/${'a'.repeat(180)}.${'b'.repeat(43)}>`;

describe('the SES plugin, against aws-ses-v2-local', () => {
  let fake: SesFake;
  beforeAll(async () => {
    fake = await startSesFake();
  });
  afterAll(async () => fake.stop());

  it('sends raw MIME with one-line List-Unsubscribe headers, the messageId header and tag', async () => {
    const sender = sesPlugin.create(sesPlugin.settingsSchema.parse(fake.settings));
    const message = sampleMessage('email', {
      messageId: 'msg_ses_exact',
      headers: { 'List-Unsubscribe': longUnsubscribe, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
    const { providerMessageId } = await sender.send(message);
    await sender.close?.();

    const call = fake.calls.at(-1)!;
    expect(call.fields).toMatchObject({
      Action: 'SendRawEmail',
      Version: '2010-12-01',
      'Tags.member.1.Name': 'mmp_message_id',
      'Tags.member.1.Value': 'msg_ses_exact',
    });
    const [head] = call.mime.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    expect(lines).toContain(`List-Unsubscribe: ${longUnsubscribe}`);
    expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(lines).toContain('X-Mmp-Message-ID: msg_ses_exact');
    expect(lines).toContain('From: Shop <shop@example.com>');
    expect(lines).toContain('To: ann@example.com');
    expect(lines).toContain('Subject: Happy birthday, Ann!');
    expect(lines).toContain('MIME-Version: 1.0');
    expect(call.mime).toMatch(/Content-Type: multipart\/alternative;/);
    expect(call.mime).toContain('Enjoy 20% off with BDAY20');

    const stored = await fake.store();
    const email = stored.emails.find((e) => e.messageId === providerMessageId);
    expect(email).toMatchObject({
      from: '"Shop" <shop@example.com>',
      subject: 'Happy birthday, Ann!',
      destination: { to: ['ann@example.com'] },
      body: { text: 'Enjoy 20% off with BDAY20', html: '<p>Enjoy 20% off with BDAY20</p>' },
    });
  });

  it('keeps header values on one line even when a value carries a line break', async () => {
    const raw = (
      await composeRawEmail(
        sampleMessage('email', {
          headers: { 'List-Unsubscribe': '<https://x.example/u/t>\r\nBcc: evil@example.com' },
        }),
        'shop@example.com',
      )
    ).toString('utf8');
    expect(raw).toContain('List-Unsubscribe: <https://x.example/u/t> Bcc: evil@example.com\r\n');
    expect(raw).not.toMatch(/^Bcc:/m);
  });
});
