import { signLinkToken, verifyLinkToken, type LinkPayload } from './link-token';

const secret = 'a-secret-of-sixteen-plus';
const payload: LinkPayload = {
  purpose: 'unsubscribe',
  customerId: 'c-42',
  channel: 'email',
  messageId: 'msg_1',
};
const now = new Date('2027-03-15T00:00:00Z');

describe('link tokens', () => {
  it('verify when untouched', () => {
    expect(verifyLinkToken(signLinkToken(payload, secret), secret, now)).toEqual({ ok: true, payload });
  });

  it('fail when the payload was altered', () => {
    const [, signature] = signLinkToken(payload, secret).split('.');
    const forged = `${Buffer.from(JSON.stringify({ ...payload, customerId: 'c-43' })).toString('base64url')}.${signature}`;
    expect(verifyLinkToken(forged, secret, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('fail under another secret, when malformed, and when expired', () => {
    const token = signLinkToken(payload, secret);
    expect(verifyLinkToken(token, 'another-secret-entirely', now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyLinkToken('nodot', secret, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyLinkToken(`${token}.x`, secret, now)).toEqual({ ok: false, reason: 'malformed' });
    const expiring = signLinkToken({ ...payload, exp: now.getTime() / 1000 - 1 }, secret);
    expect(verifyLinkToken(expiring, secret, now)).toEqual({ ok: false, reason: 'expired' });
  });
});
