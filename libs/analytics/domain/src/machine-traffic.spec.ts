import { HUMAN_REACTION_MS, machineReasonOf } from './machine-traffic';

const sentAt = new Date('2027-03-15T10:00:00Z');
const later = new Date(sentAt.getTime() + 60 * 60_000);
const person =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

describe('machineReasonOf', () => {
  it('takes a browser an hour after sending for a person', () => {
    expect(machineReasonOf({ kind: 'open', userAgent: person, at: later, sentAt })).toBeNull();
  });

  it.each([
    'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
    'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html',
    'Barracuda Sentinel (EE)',
    'python-requests/2.31.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
  ])('flags the proxy or scanner %s', (userAgent) => {
    expect(machineReasonOf({ kind: 'click', userAgent, at: later, sentAt })).toBe('user_agent');
  });

  it('flags a touch without a user agent', () => {
    expect(machineReasonOf({ kind: 'open', userAgent: null, at: later, sentAt })).toBe('user_agent');
  });

  it('flags a browser that opens within seconds of sending, and not one a moment later', () => {
    const soon = new Date(sentAt.getTime() + HUMAN_REACTION_MS - 1);
    const justLate = new Date(sentAt.getTime() + HUMAN_REACTION_MS);
    expect(machineReasonOf({ kind: 'open', userAgent: person, at: soon, sentAt })).toBe(
      'too_soon_after_send',
    );
    expect(machineReasonOf({ kind: 'open', userAgent: person, at: justLate, sentAt })).toBeNull();
  });
});
