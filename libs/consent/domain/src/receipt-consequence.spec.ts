import { receiptConsequence } from './receipt-consequence';

describe('what consent does about a delivery event', () => {
  it('suppresses the address of a permanent bounce, normalised, and nothing else', () => {
    expect(
      receiptConsequence({
        channel: 'email',
        status: 'bounced',
        reason: 'permanent_bounce:General',
        address: ' Ann@Example.com ',
      }),
    ).toEqual({
      kind: 'suppress_address',
      channel: 'email',
      address: 'ann@example.com',
      reason: 'permanent_bounce:General',
    });
    expect(
      receiptConsequence({ channel: 'email', status: 'bounced', reason: 'permanent', address: 'a@b.c' }),
    ).toEqual({
      kind: 'suppress_address',
      channel: 'email',
      address: 'a@b.c',
      reason: 'permanent',
    });
  });

  it('falls back to the address consent knows when the bounce names none, and skips it when neither exists', () => {
    expect(
      receiptConsequence(
        { channel: 'email', status: 'bounced', reason: 'permanent_bounce:General' },
        'x@y.z',
      ),
    ).toEqual({
      kind: 'suppress_address',
      channel: 'email',
      address: 'x@y.z',
      reason: 'permanent_bounce:General',
    });
    expect(
      receiptConsequence({ channel: 'email', status: 'bounced', reason: 'permanent_bounce:General' }),
    ).toBeUndefined();
  });

  it('opts the customer out of email on a complaint, whatever the status', () => {
    for (const status of ['sent', 'delivered', 'opened'])
      expect(receiptConsequence({ channel: 'email', status, reason: 'complaint' })).toEqual({
        kind: 'opt_out',
        channel: 'email',
        reason: 'complaint',
      });
  });

  it('does nothing on a transient bounce or any other status', () => {
    expect(
      receiptConsequence({
        channel: 'email',
        status: 'bounced',
        reason: 'transient_bounce:MailboxFull',
        address: 'a@b.c',
      }),
    ).toBeUndefined();
    expect(
      receiptConsequence({ channel: 'email', status: 'delivered', reason: null, address: 'a@b.c' }),
    ).toBeUndefined();
    expect(
      receiptConsequence({ channel: 'sms', status: 'failed', reason: 'twilio_30005', address: '+1' }),
    ).toBeUndefined();
  });
});
