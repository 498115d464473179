import { createHmac } from 'node:crypto';
import { twilioSignature, verifyTwilioSignature } from './twilio-signature';

const token = '12345';
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const fields = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};

describe('Twilio request signatures', () => {
  it('sign the URL followed by the sorted field names and values', () => {
    const data = `${url}CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212`;
    expect(twilioSignature(token, url, fields)).toBe(createHmac('sha1', token).update(data).digest('base64'));
  });

  it('verify an untouched request, whatever the order of its fields', () => {
    const signature = twilioSignature(token, url, fields);
    const reordered = Object.fromEntries(Object.entries(fields).reverse());
    expect(verifyTwilioSignature(token, signature, url, reordered)).toBe(true);
  });

  it('accept the URL with or without its default port, as the SDK does', () => {
    expect(
      verifyTwilioSignature(
        token,
        twilioSignature(token, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', fields),
        url,
        fields,
      ),
    ).toBe(true);
    expect(
      verifyTwilioSignature(
        token,
        twilioSignature(token, url, fields),
        'https://mycompany.com:443/myapp.php?foo=1&bar=2',
        fields,
      ),
    ).toBe(true);
  });

  it('reject a changed field, an added field, another URL, another token and garbage', () => {
    const signature = twilioSignature(token, url, fields);
    expect(verifyTwilioSignature(token, signature, url, { ...fields, Digits: '1235' })).toBe(false);
    expect(verifyTwilioSignature(token, signature, url, { ...fields, Body: 'STOP' })).toBe(false);
    expect(verifyTwilioSignature(token, signature, 'https://mycompany.com/other.php', fields)).toBe(false);
    expect(verifyTwilioSignature('54321', signature, url, fields)).toBe(false);
    expect(verifyTwilioSignature(token, 'not-a-signature', url, fields)).toBe(false);
    expect(verifyTwilioSignature(token, '', url, fields)).toBe(false);
  });
});
