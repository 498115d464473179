import type { OutboundMessage } from '@mmp/channel-sdk';
import type { Channel } from '@mmp/contracts';

/** A rendered message of each channel, as delivery hands it to a plugin. */
export function sampleMessage(channel: Channel, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const base = {
    messageId: 'msg_conformance_1',
    customerId: 'c-42',
    channel,
    headers: {},
    from: undefined,
    subject: undefined,
    text: undefined,
    html: undefined,
    body: undefined,
    title: undefined,
  };
  switch (channel) {
    case 'email':
      return {
        ...base,
        to: 'ann@example.com',
        from: 'Shop <shop@example.com>',
        subject: 'Happy birthday, Ann!',
        text: 'Enjoy 20% off with BDAY20',
        html: '<p>Enjoy 20% off with BDAY20</p>',
        headers: {
          'List-Unsubscribe': '<https://m.example.com/u/token>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
        ...overrides,
      };
    case 'sms':
      return { ...base, to: '+14155550100', from: '+14155550199', body: 'Happy birthday Ann!', ...overrides };
    case 'push':
      return {
        ...base,
        to: ['token-a'],
        title: 'Happy birthday, Ann!',
        body: 'Enjoy 20% off with BDAY20',
        ...overrides,
      };
  }
}
