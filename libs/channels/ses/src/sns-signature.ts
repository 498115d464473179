import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * Amazon SNS message signatures (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
 * the signed string is `name\nvalue\n` for fixed fields in a fixed order, signed with the key of
 * the certificate at `SigningCertURL` (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA).
 */

/** Only certificates served by SNS itself, over https, are trusted (any region, China included). */
export const DEFAULT_SNS_CERT_URL_PATTERN = '^https://sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/';

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const SUBSCRIPTION_FIELDS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
] as const;

export type SnsSignatureCheck =
  | { ok: true; certUrl: string; algorithm: 'sha1' | 'sha256'; stringToSign: string; signature: Buffer }
  | { ok: false; reason: string };

/**
 * Everything about a message's signature that needs no certificate: the string SNS signed, the
 * algorithm, and whether the certificate URL is one to trust (`certUrlPattern`, matched against
 * the normalised URL, which has no user info). Fetching the certificate is the caller's part.
 */
export function checkSnsMessage(message: unknown, certUrlPattern: RegExp): SnsSignatureCheck {
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return { ok: false, reason: 'not an SNS message' };
  const text = (name: string): string | undefined => {
    const value: unknown = Reflect.get(message, name);
    return typeof value === 'string' ? value : undefined;
  };
  const type = text('Type');
  const names =
    type === 'Notification'
      ? NOTIFICATION_FIELDS
      : type === 'SubscriptionConfirmation' || type === 'UnsubscribeConfirmation'
        ? SUBSCRIPTION_FIELDS
        : undefined;
  if (!names) return { ok: false, reason: 'not an SNS message type' };
  const version = text('SignatureVersion');
  const algorithm = version === '1' ? 'sha1' : version === '2' ? 'sha256' : undefined;
  if (!algorithm) return { ok: false, reason: 'unsigned, or an unknown SignatureVersion' };
  const signature = text('Signature');
  if (!signature) return { ok: false, reason: 'unsigned' };
  const certUrl = trustedCertUrl(text('SigningCertURL'), certUrlPattern);
  if (!certUrl) return { ok: false, reason: 'SigningCertURL is not a trusted SNS certificate URL' };
  let stringToSign = '';
  for (const name of names) {
    const value = text(name);
    // Subject is signed only when present; every other field must be there.
    if (value === undefined) {
      if (name === 'Subject') continue;
      return { ok: false, reason: `${name} is missing` };
    }
    stringToSign += `${name}\n${value}\n`;
  }
  return { ok: true, certUrl, algorithm, stringToSign, signature: Buffer.from(signature, 'base64') };
}

/** The normalised URL when it is absolute, carries no user info and matches the pattern. */
export function trustedCertUrl(url: string | undefined, pattern: RegExp): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username || parsed.password) return undefined;
  return pattern.test(parsed.href) ? parsed.href : undefined;
}

/** The public key of a PEM certificate (what SNS serves) or PEM public key. */
export function snsPublicKey(pem: string): KeyObject {
  return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

export function verifySnsSignature(check: Extract<SnsSignatureCheck, { ok: true }>, key: KeyObject): boolean {
  try {
    return verify(check.algorithm, Buffer.from(check.stringToSign, 'utf8'), key, check.signature);
  } catch {
    return false;
  }
}
