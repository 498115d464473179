import { TemplateRenderer, type RenderContext } from './render-template';
import { resolveAddress } from './resolve-address';

const context: RenderContext = {
  customer: { firstName: '<Ann>' },
  milestone: { key: 'second_order', n: 2 },
  journey: { key: 'second_order_thanks' },
  offer: { code: 'BDAY20' },
  unsubscribeUrl: 'https://m.example.com/u/t',
};

describe('TemplateRenderer', () => {
  const renderer = new TemplateRenderer();

  it('renders every field and escapes HTML by default', () => {
    const outcome = renderer.render(
      {
        channel: 'email',
        subject: 'Thanks, {{customer.firstName}}!',
        html: '<p>Order {{milestone.n}} with {{offer.code}}</p>',
        text: 'Order {{milestone.n}}',
      },
      context,
    );
    expect(outcome).toEqual({
      ok: true,
      message: {
        subject: 'Thanks, &lt;Ann&gt;!',
        html: '<p>Order 2 with BDAY20</p>',
        text: 'Order 2',
        body: undefined,
        title: undefined,
      },
    });
  });

  it('fails one message with render_error instead of throwing', () => {
    const outcome = renderer.render({ channel: 'sms', body: 'Hi {{#if}}' }, context);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.reason).toBe('render_error');
      expect(outcome.error).toMatch(/if/);
    }
  });

  it('fails on a missing helper', () => {
    const outcome = renderer.render({ channel: 'sms', body: '{{money offer.code}} {{shout}}' }, context);
    expect(outcome).toMatchObject({ ok: false, reason: 'render_error' });
  });
});

describe('resolveAddress', () => {
  it('finds the email and phone traits and nothing else', () => {
    expect(resolveAddress('email', { email: 'ann@example.com' })).toBe('ann@example.com');
    expect(resolveAddress('sms', { phone: '+14155550100' })).toBe('+14155550100');
    expect(resolveAddress('email', { phone: '+14155550100' })).toBeUndefined();
  });
});
