import { formatDate, formatMoney } from './locale-format';
import { TemplateRenderer, type RenderContext } from './render-template';
import { resolveAddress } from './resolve-address';
import { DEFAULT_RETRY_POLICY, nextRetry } from './retry-policy';
import { parseRateLimit, TokenBucket } from './token-bucket';
import { trackLinks } from './track-links';

const context: RenderContext = {
  customer: {
    firstName: 'Ann',
    lifetimeValue: '1234.5',
    lastOrderAt: '2027-03-15T02:30:00Z',
    birthday: '1990-07-04',
  },
  milestone: { key: 'vip_gold' },
  journey: { key: 'vip' },
  offer: { code: 'VIP' },
  unsubscribeUrl: 'https://m.example.com/u/tok',
};

describe('money and dates in the customer locale and zone', () => {
  it('formats money per locale', () => {
    expect(formatMoney('1234.5', 'USD', 'en-US')).toBe('$1,234.50');
    expect(formatMoney('1234.5', 'EUR', 'de-DE')).toBe('1.234,50\u00a0€');
    expect(() => formatMoney('abc', 'USD', 'en-US')).toThrow(/not an amount/);
    expect(() => formatMoney('1', 'usd', 'en-US')).toThrow(/currency/);
  });

  it('shows a date-time on the local day of the customer', () => {
    expect(
      formatDate('2027-03-15T02:30:00Z', 'long', { locale: 'en-US', timezone: 'America/New_York' }),
    ).toBe('Sunday, March 14, 2027');
    expect(formatDate('2027-03-15T02:30:00Z', 'long', { locale: 'en-US', timezone: 'Europe/Paris' })).toBe(
      'Monday, March 15, 2027',
    );
    expect(formatDate('1990-07-04', 'medium', { locale: 'fr-FR', timezone: 'Pacific/Auckland' })).toBe(
      '4 juil. 1990',
    );
    expect(() => formatDate('yesterday', 'long', { locale: 'en-US', timezone: 'UTC' })).toThrow(
      /not an ISO date/,
    );
  });

  it('uses them from templates with the locale given at render time', () => {
    const renderer = new TemplateRenderer();
    const outcome = renderer.render(
      {
        channel: 'sms',
        body: '{{customer.firstName}}: {{money customer.lifetimeValue "EUR"}} since {{date customer.lastOrderAt "short"}}',
      },
      context,
      { locale: { locale: 'de-DE', timezone: 'America/New_York' } },
    );
    expect(outcome).toMatchObject({ ok: true, message: { body: 'Ann: 1.234,50\u00a0€ since 14.3.2027' } });
  });

  it('fails only that message when a helper gets bad input', () => {
    const renderer = new TemplateRenderer();
    expect(renderer.render({ channel: 'sms', body: '{{money offer.code "USD"}}' }, context)).toMatchObject({
      ok: false,
      reason: 'render_error',
      error: 'money: VIP is not an amount',
    });
  });
});

describe('partials and layouts', () => {
  const renderer = new TemplateRenderer({
    partials: { footer: '<p>Unsubscribe: {{unsubscribeUrl}}</p>' },
    layouts: { brand: '<html><body><h1>Shop</h1>{{{body}}}{{> footer}}</body></html>' },
  });

  it('wraps the html in its layout and fills partials', () => {
    const outcome = renderer.render(
      { channel: 'email', subject: 'Hi', html: '<p>Hi {{customer.firstName}}</p>', layout: 'brand' },
      context,
    );
    expect(outcome).toMatchObject({
      ok: true,
      message: {
        html: '<html><body><h1>Shop</h1><p>Hi Ann</p><p>Unsubscribe: https://m.example.com/u/tok</p></body></html>',
      },
    });
  });

  it('fails with render_error on an unknown layout or partial', () => {
    expect(
      renderer.render({ channel: 'email', subject: 'x', html: 'x', layout: 'nope' }, context),
    ).toMatchObject({
      ok: false,
      error: 'no layout is called "nope"',
    });
    expect(renderer.render({ channel: 'email', subject: 'x', html: '{{> nope}}' }, context)).toMatchObject({
      ok: false,
      reason: 'render_error',
    });
  });
});

describe('link tracking', () => {
  const tracker = {
    click: (url: string) => `https://m.example.com/t/c/${encodeURIComponent(url)}`,
    open: () => 'https://m.example.com/t/o/tok',
  };

  it('wraps links but not the unsubscribe link or mailto, and adds the pixel before </body>', () => {
    const html =
      '<body><a href="https://shop.example/?a=1&amp;b=2">Shop</a> <a class="x" href=\'http://x.example/\'>X</a> <a href="mailto:help@example.com">help</a> <a href="https://m.example.com/u/tok">unsubscribe</a></body>';
    expect(trackLinks(html, tracker, ['https://m.example.com/u/tok'])).toBe(
      '<body><a href="https://m.example.com/t/c/https%3A%2F%2Fshop.example%2F%3Fa%3D1%26b%3D2">Shop</a> <a class="x" href=\'https://m.example.com/t/c/http%3A%2F%2Fx.example%2F\'>X</a> <a href="mailto:help@example.com">help</a> <a href="https://m.example.com/u/tok">unsubscribe</a><img src="https://m.example.com/t/o/tok" width="1" height="1" alt="" style="display:none"></body>',
    );
  });

  it('is applied by the renderer unless the template turns it off', () => {
    const renderer = new TemplateRenderer();
    const byDefault = renderer.render(
      { channel: 'email', subject: 's', html: '<a href="https://shop.example/">Shop</a>' },
      context,
      { tracker },
    );
    expect(byDefault).toMatchObject({ ok: true, message: { html: expect.stringContaining('/t/c/') } });
    const off = renderer.render(
      { channel: 'email', subject: 's', html: '<a href="https://shop.example/">Shop</a>', tracking: false },
      context,
      { tracker },
    );
    expect(off).toMatchObject({ ok: true, message: { html: '<a href="https://shop.example/">Shop</a>' } });
  });
});

describe('push addresses', () => {
  it('are the pushTokens trait, deduplicated, without unregistered ones', () => {
    expect(resolveAddress('push', { pushTokens: ['a', { token: 'b', platform: 'ios' }, 'a', 42] })).toEqual([
      'a',
      'b',
    ]);
    expect(resolveAddress('push', { pushTokens: ['a', 'b'] }, new Set(['a']))).toEqual(['b']);
    expect(resolveAddress('push', { pushTokens: ['a'] }, new Set(['a']))).toBeUndefined();
    expect(resolveAddress('push', {})).toBeUndefined();
  });
});

describe('retry backoff', () => {
  it('doubles the ceiling per attempt, jitters below it, honours Retry-After, and stops', () => {
    const policy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 3000 };
    expect(nextRetry(policy, 1, undefined, 0.5)).toEqual({ retry: true, delayMs: 500 });
    expect(nextRetry(policy, 2, undefined, 0.5)).toEqual({ retry: true, delayMs: 1000 });
    expect(nextRetry(policy, 3, undefined, 0.999)).toEqual({ retry: true, delayMs: 2997 });
    expect(nextRetry(policy, 3, 30_000, 0.5)).toEqual({ retry: true, delayMs: 30_000 });
    expect(nextRetry(policy, 4, undefined, 0.5)).toEqual({ retry: false });
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(5);
  });
});

describe('the token bucket', () => {
  it('lets a burst through, then spaces sends at the rate, refilling with time', () => {
    const bucket = new TokenBucket(2, 2, 0);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([
      0, 0, 500, 1000,
    ]);
    expect(bucket.reserve(10_000)).toBe(0);
  });

  it('parses its setting', () => {
    expect(parseRateLimit('14')).toEqual({ perSecond: 14, burst: 14 });
    expect(parseRateLimit('0.5/3')).toEqual({ perSecond: 0.5, burst: 3 });
    expect(parseRateLimit('fast')).toBeUndefined();
    expect(parseRateLimit('0')).toBeUndefined();
  });
});
