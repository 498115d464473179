import { generateKeyPairSync, sign } from 'node:crypto';
import { startHttpFake } from './http-fake';

/** An SNS message as `POST /v1/webhooks/ses` receives it, before signing. */
export type SnsEnvelope = Record<string, string>;

export interface SnsFake {
  /** Where the fake serves its certificate (a PEM public key): the SigningCertURL it signs with. */
  readonly certUrl: string;
  /** A SNS_CERT_URL_PATTERN that trusts this fake's loopback address. */
  readonly certUrlPattern: string;
  /** How many times the certificate was fetched. */
  readonly certFetches: number;
  /** A SubscribeURL on the fake (SNS's host, as far as the platform can tell): visiting it confirms `token`. */
  subscribeUrl(token: string): string;
  /** The tokens whose SubscribeURL was visited, in order. */
  readonly confirmedTokens: readonly string[];
  /**
   * The envelope completed as SNS sends it (MessageId, Timestamp, SignatureVersion, SigningCertURL)
   * and signed with the fake's key; `overrides` replace fields after signing (to forge one).
   */
  sign(envelope: SnsEnvelope, options?: { version?: '1' | '2'; overrides?: SnsEnvelope }): SnsEnvelope;
  stop(): Promise<void>;
}

/**
 * Amazon SNS's signing, written from AWS's documentation independently of the platform's
 * verifier, so that a spec checks one against the other: fields `name\nvalue\n` in a fixed order
 * (Subject only when present), RSA with SHA1 (version 1) or SHA256 (version 2).
 */
const SIGNED_FIELDS: Record<string, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

let sequence = 0;

export async function startSnsFake(): Promise<SnsFake> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let certFetches = 0;
  const confirmedTokens: string[] = [];
  const server = await startHttpFake((request, res) => {
    const url = new URL(request.path, 'http://fake');
    if (
      request.method === 'GET' &&
      url.pathname === '/' &&
      url.searchParams.get('Action') === 'ConfirmSubscription'
    ) {
      confirmedTokens.push(url.searchParams.get('Token') ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:fake</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
      );
      return;
    }
    if (request.method === 'GET' && request.path === '/SimpleNotificationService-fake.pem') {
      certFetches += 1;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(pem);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const certUrl = `${server.url}/SimpleNotificationService-fake.pem`;
  return {
    certUrl,
    certUrlPattern: `^http://127\\.0\\.0\\.1:${server.port}/`,
    get certFetches() {
      return certFetches;
    },
    subscribeUrl: (token) =>
      `${server.url}/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:ses&Token=${encodeURIComponent(token)}`,
    confirmedTokens,
    sign(envelope, options = {}) {
      sequence += 1;
      const version = options.version ?? '1';
      const full: SnsEnvelope = {
        MessageId: `sns-${sequence}`,
        Timestamp: new Date().toISOString(),
        ...envelope,
        SignatureVersion: version,
        SigningCertURL: certUrl,
      };
      const fields = SIGNED_FIELDS[full['Type'] ?? ''] ?? [];
      const text = fields
        .filter((name) => full[name] !== undefined)
        .map((name) => `${name}\n${full[name]}\n`)
        .join('');
      const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(text, 'utf8'), privateKey);
      return { ...full, Signature: signature.toString('base64'), ...options.overrides };
    },
    stop: () => server.close(),
  };
}
