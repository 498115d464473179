import type { ChannelPlugin, ChannelSender, OutboundMessage, WebhookParser } from '@mmp/channel-sdk';
import { sampleMessage } from './sample-messages';

/** A provider call the loopback fake received, as text (form fields, JSON, MIME) to search. */
export interface ReceivedRequest {
  text: string;
}

/** A loopback stand-in for the provider, started once per conformance run. */
export interface ConformanceFake {
  /** Plugin settings (as delivery would pass them) that point the real SDK at this fake. */
  readonly settings: unknown;
  /** Every provider call received so far, oldest first. */
  received(): Promise<readonly ReceivedRequest[]>;
  /** The next provider call answers with a throttling/5xx error, or a permanent rejection. */
  failNext(kind: 'retryable' | 'permanent'): void;
  stop(): Promise<void>;
}

export interface ConformanceSubject<Settings> {
  /** The plugin object the package exports (ours, or loaded from a channel team's package). */
  plugin: ChannelPlugin<Settings>;
  /** Settings the plugin must refuse: a bad setting stops start-up. */
  invalidSettings: readonly unknown[];
  startFake(): Promise<ConformanceFake>;
  /** The message to send; defaults to the sample of the plugin's channel. */
  message?: OutboundMessage;
}

/**
 * The conformance kit: every channel plugin, ours or a channel team's, runs this from its spec
 * (`describeChannelConformance(...)`). It pins what delivery relies on: settings are validated,
 * a send reaches the provider once and returns its id, the messageId travels when the plugin
 * says it does, and provider errors are classified retryable or permanent.
 */
export function describeChannelConformance<Settings>(subject: ConformanceSubject<Settings>): void {
  const plugin = subject.plugin;
  const message = subject.message ?? sampleMessage(plugin.channel);

  describe(`the ${plugin.name} ${plugin.channel} plugin (conformance)`, () => {
    let fake: ConformanceFake;
    let sender: ChannelSender & Partial<WebhookParser>;

    beforeAll(async () => {
      fake = await subject.startFake();
      const parsed = plugin.settingsSchema.safeParse(fake.settings);
      if (!parsed.success) throw new Error(`the fake's settings do not validate: ${parsed.error.message}`);
      sender = plugin.create(parsed.data);
    });

    afterAll(async () => {
      await sender?.close?.();
      await fake?.stop();
    });

    it('names itself and its channel', () => {
      expect(plugin.name).toMatch(/^(@[a-z0-9-]+\/)?[a-z0-9-]+$/);
      expect(['email', 'sms', 'push']).toContain(plugin.channel);
      expect(['provider', 'carried', 'none']).toContain(plugin.idempotency ?? 'none');
    });

    it('refuses bad settings', () => {
      expect(subject.invalidSettings.length).toBeGreaterThan(0);
      for (const settings of subject.invalidSettings) {
        expect(plugin.settingsSchema.safeParse(settings).success).toBe(false);
      }
    });

    it('sends a message to the provider once and returns the provider id', async () => {
      const before = (await fake.received()).length;
      const result = await sender.send(message);
      expect(result.providerMessageId).toEqual(expect.any(String));
      expect(result.providerMessageId.length).toBeGreaterThan(0);
      const received = (await fake.received()).slice(before);
      expect(received).toHaveLength(Array.isArray(message.to) ? message.to.length : 1);
      const text = received.map((r) => r.text).join('\n');
      for (const address of [message.to].flat()) expect(text).toContain(address);
      const content = message.body ?? message.text ?? message.subject;
      if (content !== undefined) expect(text).toContain(content);
    });

    it('returns a different provider id for each message', async () => {
      const first = await sender.send({ ...message, messageId: 'msg_conformance_2' });
      const second = await sender.send({ ...message, messageId: 'msg_conformance_3' });
      expect(first.providerMessageId).not.toBe(second.providerMessageId);
    });

    it('passes the messageId along when it says it does', async () => {
      const before = (await fake.received()).length;
      await sender.send({ ...message, messageId: 'msg_conformance_idem' });
      const text = (await fake.received())
        .slice(before)
        .map((r) => r.text)
        .join('\n');
      if ((plugin.idempotency ?? 'none') === 'none') expect(text).not.toContain('msg_conformance_idem');
      else expect(text).toContain('msg_conformance_idem');
    });

    it('classifies a throttling or 5xx answer as retryable', async () => {
      fake.failNext('retryable');
      const error = await sender.send(message).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      const classified = sender.classifyError(error);
      expect(classified.kind).toBe('retryable');
      expect(classified.reason.length).toBeGreaterThan(0);
    });

    it('classifies a rejection as permanent, with a reason', async () => {
      fake.failNext('permanent');
      const error = await sender.send(message).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      const classified = sender.classifyError(error);
      expect(classified.kind).toBe('permanent');
      expect(classified.reason.length).toBeGreaterThan(0);
    });

    it('classifies anything thrown without throwing itself', () => {
      for (const thrown of [undefined, null, 'boom', new Error('socket hang up'), { code: 42 }]) {
        const classified = sender.classifyError(thrown);
        expect(['retryable', 'permanent']).toContain(classified.kind);
        expect(typeof classified.reason).toBe('string');
      }
    });

    it('rejects a webhook it cannot read instead of throwing', () => {
      if (!sender.parseWebhook) return;
      const outcome = sender.parseWebhook({
        url: 'http://localhost/x',
        headers: {},
        rawBody: 'not a receipt',
      });
      expect(outcome.kind).toBe('rejected');
    });
  });
}
