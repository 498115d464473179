import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed link tokens for unsubscribe (`/u/{token}`) and tracking (`/t/...`) URLs: the payload
 * travels in the URL as base64url JSON, followed by an HMAC-SHA256 of it under LINK_SECRET.
 * A token whose payload or signature was altered does not verify.
 */
export interface LinkPayload {
  /** What the link does: `unsubscribe`, `open`, `click`. */
  purpose: string;
  customerId: string;
  channel: string;
  messageId: string;
  /** For click links: where to send the reader. */
  url?: string;
  /** Expiry as epoch seconds, when the link expires. */
  exp?: number;
}

const encode = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

function signatureOf(body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

export function signLinkToken(payload: LinkPayload, secret: string): string {
  const body = encode(JSON.stringify(payload));
  return `${body}.${encode(signatureOf(body, secret))}`;
}

export type LinkVerification =
  { ok: true; payload: LinkPayload } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function verifyLinkToken(token: string, secret: string, now: Date): LinkVerification {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
  const expected = signatureOf(body, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isLinkPayload(parsed)) return { ok: false, reason: 'malformed' };
  if (parsed.exp !== undefined && parsed.exp * 1000 < now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, payload: parsed };
}

function isLinkPayload(value: unknown): value is LinkPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v: Record<string, unknown> = { ...value };
  return (
    typeof v['purpose'] === 'string' &&
    typeof v['customerId'] === 'string' &&
    typeof v['channel'] === 'string' &&
    typeof v['messageId'] === 'string' &&
    (v['url'] === undefined || typeof v['url'] === 'string') &&
    (v['exp'] === undefined || typeof v['exp'] === 'number')
  );
}
