import type { OutboundMessage } from '@mmp/channel-sdk';
import { AppConfig } from '@mmp/config';
import type { Channel } from '@mmp/contracts';
import {
  TemplateRenderer,
  type LinkTracker,
  type RenderedMessage,
  type RenderLocale,
  type TemplateSource,
} from '@mmp/delivery-domain';
import { signLinkToken } from '@mmp/links';
import { ProgramStore, type Program } from '@mmp/program';
import { Injectable } from '@nestjs/common';

/** The part of a profile templates see: a snapshot from a request, or a preview's sample. */
export interface PreviewableProfile {
  traits: Readonly<Record<string, unknown>>;
  attributes: Readonly<Record<string, unknown>>;
}

export interface ComposeInput {
  messageId: string;
  customerId: string;
  channel: Channel;
  templateName: string;
  customer: PreviewableProfile;
  milestone: Record<string, unknown>;
  journey: Record<string, unknown>;
  offer: Record<string, unknown>;
}

export type Composed =
  | { ok: true; rendered: RenderedMessage; unsubscribeUrl: string }
  | { ok: false; reason: 'template_missing' | 'render_error'; detail: string };

/**
 * Renders a program template for one message: the customer's locale and zone for money and
 * dates, the program's partials and layouts, signed unsubscribe, click and open links. Used
 * by sending and by previews alike, so a preview shows exactly what would go out.
 */
@Injectable()
export class MessageComposer {
  private readonly renderers = new WeakMap<Program, TemplateRenderer>();

  constructor(
    private readonly program: ProgramStore,
    private readonly config: AppConfig,
  ) {}

  compose(input: ComposeInput): Composed {
    const program = this.program.current();
    const template = program.templates[input.templateName];
    if (!template)
      return { ok: false, reason: 'template_missing', detail: `no template is called ${input.templateName}` };
    const unsubscribeUrl = `${this.config.publicUrl}/u/${this.sign('unsubscribe', input)}`;
    const traits = input.customer.traits;
    const locale: RenderLocale = {
      locale: typeof traits['locale'] === 'string' ? traits['locale'] : 'en-US',
      timezone: typeof traits['timezone'] === 'string' ? traits['timezone'] : program.policies.timezone,
    };
    const source: TemplateSource = template;
    const tracker: LinkTracker = {
      click: (url) => `${this.config.publicUrl}/t/c/${this.sign('click', input, url)}`,
      open: () => `${this.config.publicUrl}/t/o/${this.sign('open', input)}`,
    };
    const outcome = this.rendererFor(program).render(
      source,
      {
        customer: { id: input.customerId, ...traits, ...input.customer.attributes },
        milestone: input.milestone,
        journey: input.journey,
        offer: input.offer,
        unsubscribeUrl,
      },
      { locale: isValidLocale(locale) ? locale : { locale: 'en-US', timezone: locale.timezone }, tracker },
    );
    if (!outcome.ok) return { ok: false, reason: 'render_error', detail: outcome.error };
    return { ok: true, rendered: outcome.message, unsubscribeUrl };
  }

  /** The message a plugin gets, with List-Unsubscribe headers on email (SPEC section 6). */
  outbound(
    input: ComposeInput,
    to: string | readonly string[],
    composed: { rendered: RenderedMessage; unsubscribeUrl: string },
  ): OutboundMessage {
    const { rendered, unsubscribeUrl } = composed;
    return {
      messageId: input.messageId,
      customerId: input.customerId,
      channel: input.channel,
      to,
      from: input.channel === 'email' ? this.config.channels.email.from : this.config.channels.sms.from,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      body: rendered.body,
      title: rendered.title,
      headers:
        input.channel === 'email'
          ? {
              'List-Unsubscribe': `<${unsubscribeUrl}>`,
              'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            }
          : {},
    };
  }

  private sign(purpose: 'unsubscribe' | 'click' | 'open', input: ComposeInput, url?: string): string {
    return signLinkToken(
      {
        purpose,
        customerId: input.customerId,
        channel: input.channel,
        messageId: input.messageId,
        ...(url === undefined ? {} : { url }),
      },
      this.config.linkSecret,
    );
  }

  private rendererFor(program: Program): TemplateRenderer {
    let renderer = this.renderers.get(program);
    if (!renderer) {
      renderer = new TemplateRenderer({ partials: program.partials ?? {}, layouts: program.layouts ?? {} });
      this.renderers.set(program, renderer);
    }
    return renderer;
  }
}

/**
 * Whether Intl knows a locale, by its tag: building an Intl.NumberFormat to find out cost about
 * 50 µs a message on the order path, and a tag's answer never changes. Tags come from customers'
 * traits, so the memo is bounded (emptied when full); real programs see a handful.
 */
const knownLocales = new Map<string, boolean>();
const KNOWN_LOCALES_MAX = 1_000;

export function isValidLocale(locale: RenderLocale): boolean {
  const known = knownLocales.get(locale.locale);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.NumberFormat(locale.locale);
    valid = true;
  } catch {
    valid = false;
  }
  if (knownLocales.size >= KNOWN_LOCALES_MAX) knownLocales.clear();
  knownLocales.set(locale.locale, valid);
  return valid;
}
