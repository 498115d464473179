import { validate } from '../validation';
import { RetailEventV1 } from './retail-event';

/** The one validation path of POST /v1/events and retail.events.v1, for the push token events. */
const event = (type: string, properties: unknown, traits?: unknown) => ({
  eventId: 'e-1',
  type,
  occurredAt: '2027-03-15T10:00:00-05:00',
  customerId: 'c-42',
  ...(traits === undefined ? {} : { traits }),
  properties,
});

describe('push token events', () => {
  it.each([
    ['push.token.registered', { token: 'tok-1', platform: 'android' }],
    ['push.token.unregistered', { token: 'tok-1' }],
    ['push.token.unregistered', { token: 'tok-1', reason: 'provider_unregistered', messageId: 'm-1' }],
  ])('accepts %s with %j', (type, properties) => {
    expect(validate(RetailEventV1, event(type, properties))).toMatchObject({ ok: true });
  });

  it.each([
    ['push.token.unregistered', {}, [{ path: 'properties.token', message: expect.any(String) }]],
    [
      'push.token.unregistered',
      { token: '' },
      [{ path: 'properties.token', message: 'must be a push token' }],
    ],
    [
      'push.token.unregistered',
      { token: 'tok-1', reason: 42 },
      [{ path: 'properties.reason', message: expect.any(String) }],
    ],
    [
      'push.token.registered',
      { token: 'tok-1', platform: 'symbian' },
      [{ path: 'properties.platform', message: expect.any(String) }],
    ],
  ])('rejects %s with %j, naming the field', (type, properties, issues) => {
    expect(validate(RetailEventV1, event(type, properties))).toEqual({ ok: false, issues });
  });

  it('refuses the pushTokens trait, which only the push token events keep', () => {
    expect(validate(RetailEventV1, event('customer.updated', {}, { pushTokens: 'tok-1' }))).toEqual({
      ok: false,
      issues: [
        {
          path: 'traits.pushTokens',
          message: 'is kept by push.token.registered and push.token.unregistered events, not set as a trait',
        },
      ],
    });
  });
});
