import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  checkSnsMessage,
  DEFAULT_SNS_CERT_URL_PATTERN,
  snsPublicKey,
  trustedCertUrl,
  verifySnsSignature,
} from './sns-signature';

const AWS = new RegExp(DEFAULT_SNS_CERT_URL_PATTERN);
const CERT = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const notification = {
  Type: 'Notification',
  MessageId: 'm-1',
  TopicArn: 'arn:aws:sns:us-east-1:1:ses',
  Message: '{"notificationType":"Delivery"}',
  Timestamp: '2027-03-15T14:00:00.000Z',
  SignatureVersion: '1',
  SigningCertURL: CERT,
};
const NOTIFICATION_STRING =
  'Message\n{"notificationType":"Delivery"}\nMessageId\nm-1\nTimestamp\n2027-03-15T14:00:00.000Z\n' +
  'TopicArn\narn:aws:sns:us-east-1:1:ses\nType\nNotification\n';

const signed = (message: Record<string, string>, text: string, key: KeyObject = privateKey) => ({
  ...message,
  Signature: sign(message['SignatureVersion'] === '2' ? 'sha256' : 'sha1', Buffer.from(text), key).toString(
    'base64',
  ),
});
const verifies = (message: unknown, pattern = AWS) => {
  const check = checkSnsMessage(message, pattern);
  return check.ok ? verifySnsSignature(check, publicKey) : check.reason;
};

describe('SNS signatures', () => {
  it('builds the string SNS signs for a notification, with Subject only when present', () => {
    expect(checkSnsMessage({ ...notification, Signature: 'AA==' }, AWS)).toMatchObject({
      ok: true,
      algorithm: 'sha1',
      certUrl: CERT,
      stringToSign: NOTIFICATION_STRING,
    });
    const withSubject = checkSnsMessage({ ...notification, Subject: 'Hi', Signature: 'AA==' }, AWS);
    expect(withSubject.ok && withSubject.stringToSign).toContain('MessageId\nm-1\nSubject\nHi\nTimestamp\n');
  });

  it('builds the string of a subscription confirmation', () => {
    const check = checkSnsMessage(
      {
        Type: 'SubscriptionConfirmation',
        MessageId: 'm-2',
        Token: 'tok',
        TopicArn: 'arn:aws:sns:us-east-1:1:ses',
        Message: 'confirm',
        SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
        Timestamp: '2027-03-15T14:00:00.000Z',
        SignatureVersion: '2',
        SigningCertURL: CERT,
        Signature: 'AA==',
      },
      AWS,
    );
    expect(check).toMatchObject({
      ok: true,
      algorithm: 'sha256',
      stringToSign:
        'Message\nconfirm\nMessageId\nm-2\nSubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription\n' +
        'Timestamp\n2027-03-15T14:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:ses\nType\nSubscriptionConfirmation\n',
    });
  });

  it.each([
    ['version 1 (SHA1withRSA)', signed(notification, NOTIFICATION_STRING), true],
    [
      'version 2 (SHA256withRSA)',
      signed({ ...notification, SignatureVersion: '2' }, NOTIFICATION_STRING),
      true,
    ],
    ['a changed Message', { ...signed(notification, NOTIFICATION_STRING), Message: '{}' }, false],
    [
      'another key',
      signed(
        notification,
        NOTIFICATION_STRING,
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      ),
      false,
    ],
    [
      'a version 1 signature claimed as version 2',
      { ...signed(notification, NOTIFICATION_STRING), SignatureVersion: '2' },
      false,
    ],
    ['no signature', notification, 'unsigned'],
    [
      'an unknown version',
      { ...notification, SignatureVersion: '3', Signature: 'AA==' },
      'unsigned, or an unknown SignatureVersion',
    ],
    ['no Type', { ...notification, Type: 'Other', Signature: 'AA==' }, 'not an SNS message type'],
    [
      'a missing TopicArn',
      { ...notification, TopicArn: undefined, Signature: 'AA==' },
      'TopicArn is missing',
    ],
  ])('%s', (_name, message, expected) => {
    expect(verifies(message)).toBe(expected);
  });

  it.each([
    [CERT, CERT],
    ['https://sns.cn-north-1.amazonaws.com.cn/x.pem', 'https://sns.cn-north-1.amazonaws.com.cn/x.pem'],
    ['http://sns.us-east-1.amazonaws.com/x.pem', undefined],
    ['https://sns.us-east-1.amazonaws.com.evil.example/x.pem', undefined],
    ['https://sns.us-east-1.amazonaws.com@evil.example/x.pem', undefined],
    ['https://user@sns.us-east-1.amazonaws.com/x.pem', undefined],
    ['https://evil.example/sns.us-east-1.amazonaws.com/x.pem', undefined],
    ['https://s3.amazonaws.com/x.pem', undefined],
    ['not a url', undefined],
  ])('trusts the certificate URL %s: %s', (url, expected) => {
    expect(trustedCertUrl(url, AWS)).toBe(expected);
  });

  it('refuses a message whose certificate URL is not trusted, before any fetch', () => {
    expect(
      verifies({
        ...signed(notification, NOTIFICATION_STRING),
        SigningCertURL: 'https://evil.example/c.pem',
      }),
    ).toBe('SigningCertURL is not a trusted SNS certificate URL');
  });

  it('reads a public key PEM', () => {
    const key = snsPublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const check = checkSnsMessage(signed(notification, NOTIFICATION_STRING), AWS);
    expect(check.ok && verifySnsSignature(check, key)).toBe(true);
  });
});
