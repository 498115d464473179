import type { ChannelPlugin, OutboundMessage } from '@mmp/channel-sdk';
import { fcmPlugin } from '@mmp/channel-fcm';
import { sesPlugin } from '@mmp/channel-ses';
import {
  sampleMessage,
  startFcmFake,
  startSesFake,
  startTwilioFake,
  type ConformanceFake,
} from '@mmp/channel-testing';
import { twilioPlugin } from '@mmp/channel-twilio';
import { TemplateRenderer } from '@mmp/delivery-domain';
import type { BenchCase } from '../bench-case';
import type { Figure } from '../figures';

/** Messages sent through each plugin (after a warm-up), at the delivery service's own concurrency. */
const MESSAGES_PER_PLUGIN = 2_000;
const WARMUP_MESSAGES = 200;
const SEND_CONCURRENCY = 16;
const RENDERS = 20_000;

/**
 * Channel delivery: messages/s through each provider plugin (the real SDK) against its loopback
 * fake, and the render time per message. The fakes run in this process, so the figures are the
 * SDK + fake cost on this machine, an upper bound on what delivery adds, not the providers' speed.
 */
export const deliveryCase: BenchCase = {
  id: 'delivery',
  description: 'messages/s through each channel plugin against its loopback fake; render time per message',
  async run(context) {
    const figures: Figure[] = [];
    const plugins: {
      label: string;
      plugin: ChannelPlugin;
      start: () => Promise<ConformanceFake>;
      message: OutboundMessage;
    }[] = [
      {
        label: 'SES email (aws-ses-v2-local)',
        plugin: sesPlugin,
        start: startSesFake,
        message: sampleMessage('email'),
      },
      {
        label: 'Twilio SMS (loopback fake)',
        plugin: twilioPlugin,
        start: startTwilioFake,
        message: sampleMessage('sms'),
      },
      {
        label: 'FCM push (loopback fake)',
        plugin: fcmPlugin,
        start: () => startFcmFake(),
        message: sampleMessage('push'),
      },
    ];
    for (const { label, plugin, start, message } of plugins) {
      const fake = await start();
      context.onCleanup(() => fake.stop());
      const sender = plugin.create(plugin.settingsSchema.parse(fake.settings));
      context.onCleanup(async () => sender.close?.());
      await sendMany(WARMUP_MESSAGES, (i) => sender.send({ ...message, messageId: `warm_${i}` }));
      context.log(`delivery: ${MESSAGES_PER_PLUGIN} messages through ${label}`);
      const started = process.hrtime.bigint();
      await sendMany(MESSAGES_PER_PLUGIN, (i) =>
        sender.send({ ...message, messageId: `bench_${context.runId}_${i}` }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      figures.push({ name: `delivery: ${label}`, value: MESSAGES_PER_PLUGIN / seconds, unit: 'messages/s' });
    }

    const renderer = new TemplateRenderer({
      partials: { footer: '<footer><a href="{{unsubscribeUrl}}">Unsubscribe</a></footer>' },
      layouts: { brand: '<html><body><h1>Shop</h1>{{{body}}}{{> footer}}</body></html>' },
    });
    const template = {
      channel: 'email' as const,
      subject: 'Happy birthday, {{customer.firstName}}!',
      html: '<p>You spent {{money customer.lifetimeValue "USD"}} since {{date customer.registeredAt "long"}}.</p><p>Use {{offer.code}}</p><a href="https://shop.example/">Shop</a>',
      text: 'Use {{offer.code}} before {{date offer.expiresAt}}',
      layout: 'brand',
      tracking: true,
    };
    const tracker = {
      click: (url: string) => `https://m.example.com/t/c/${encodeURIComponent(url)}`,
      open: () => 'https://m.example.com/t/o/x',
    };
    const render = (i: number) =>
      renderer.render(
        template,
        {
          customer: { firstName: `Ann ${i}`, lifetimeValue: '1234.50', registeredAt: '2025-03-15T10:00:00Z' },
          milestone: { key: 'birthday' },
          journey: { key: 'birthday_sequence' },
          offer: { code: 'BDAY20', expiresAt: '2027-03-22T10:00:00Z' },
          unsubscribeUrl: 'https://m.example.com/u/token',
        },
        { locale: { locale: 'en-US', timezone: 'America/New_York' }, tracker },
      );
    for (let i = 0; i < 1_000; i++) render(i);
    const started = process.hrtime.bigint();
    for (let i = 0; i < RENDERS; i++) {
      const outcome = render(i);
      if (!outcome.ok) throw new Error(`the bench template does not render: ${outcome.error}`);
    }
    const micros = Number(process.hrtime.bigint() - started) / 1e3 / RENDERS;
    figures.push({
      name: 'delivery: render per email (layout, helpers, tracking)',
      value: micros,
      unit: 'µs/message',
    });
    return figures;
  },
};

async function sendMany(count: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: SEND_CONCURRENCY }, async () => {
      while (next < count) await send(next++);
    }),
  );
}
