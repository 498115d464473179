import type { Channel } from '@mmp/contracts';
import Handlebars from 'handlebars';
import { formatDate, formatMoney } from './locale-format';
import { trackLinks, type LinkTracker } from './track-links';

/** The template fields of every channel (SPEC section 5); which are set depends on the channel. */
export interface TemplateSource {
  channel: Channel;
  subject?: string;
  html?: string;
  text?: string;
  body?: string;
  title?: string;
  /** Email only: a layout of the renderer's layouts that wraps the html (`{{{body}}}`). */
  layout?: string;
  /** Email only: wrap links and add an open pixel (when a tracker is given). Off unless true. */
  tracking?: boolean;
}

export interface RenderContext {
  customer: Record<string, unknown>;
  milestone: Record<string, unknown>;
  journey: Record<string, unknown>;
  offer: Record<string, unknown>;
  unsubscribeUrl: string;
}

/** Where money and dates are formatted: the customer's locale and time zone. */
export interface RenderLocale {
  locale: string;
  timezone: string;
}

export interface RenderOptions {
  locale?: RenderLocale;
  /** Present when tracking is on: signs click and open URLs for this message. */
  tracker?: LinkTracker;
}

export interface RenderedMessage {
  subject: string | undefined;
  html: string | undefined;
  text: string | undefined;
  body: string | undefined;
  title: string | undefined;
}

export type RenderOutcome =
  { ok: true; message: RenderedMessage } | { ok: false; reason: 'render_error'; error: string };

/** Partials and layouts of one program version. */
export interface TemplateLibrary {
  partials?: Readonly<Record<string, string>>;
  layouts?: Readonly<Record<string, string>>;
}

const DEFAULT_LOCALE: RenderLocale = { locale: 'en-US', timezone: 'UTC' };

/**
 * Renders a template with Handlebars, HTML-escaped by default, with `money` and `date` helpers
 * in the customer's locale and time zone, the program's partials, an optional layout around
 * the html, and (when a tracker is given) wrapped links and an open pixel. Compiled templates
 * are cached per source text. A failure (a syntax error, a missing helper, partial or layout)
 * fails this one message with `render_error`; it never throws into the step loop.
 */
export class TemplateRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly cache = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layouts: Readonly<Record<string, string>>;

  constructor(library: TemplateLibrary = {}) {
    for (const [name, source] of Object.entries(library.partials ?? {}))
      this.handlebars.registerPartial(name, source);
    this.layouts = library.layouts ?? {};
  }

  render(template: TemplateSource, context: RenderContext, options: RenderOptions = {}): RenderOutcome {
    const locale = options.locale ?? DEFAULT_LOCALE;
    const helpers = {
      money: (amount: unknown, currency: unknown) => formatMoney(amount, currency, locale.locale),
      date: (value: unknown, style: unknown) => formatDate(value, style, locale),
    };
    try {
      let html = this.renderField(template.html, context, helpers);
      if (html !== undefined && template.layout !== undefined) {
        const layout = this.layouts[template.layout];
        if (layout === undefined) throw new Error(`no layout is called "${template.layout}"`);
        html = this.renderField(layout, { ...context, body: html }, helpers);
      }
      // Tracking is on unless a template turns it off (SPEC section 7: email links are wrapped).
      if (html !== undefined && options.tracker && template.tracking !== false)
        html = trackLinks(html, options.tracker, [context.unsubscribeUrl]);
      return {
        ok: true,
        message: {
          subject: this.renderField(template.subject, context, helpers),
          html,
          text: this.renderField(template.text, context, helpers),
          body: this.renderField(template.body, context, helpers),
          title: this.renderField(template.title, context, helpers),
        },
      };
    } catch (error) {
      return {
        ok: false,
        reason: 'render_error',
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  private renderField(
    source: string | undefined,
    context: object,
    helpers: Record<string, Handlebars.HelperDelegate>,
  ): string | undefined {
    if (source === undefined) return undefined;
    let compiled = this.cache.get(source);
    if (!compiled) {
      compiled = this.handlebars.compile(source, { strict: false, knownHelpersOnly: false });
      this.cache.set(source, compiled);
    }
    return compiled(context, { helpers });
  }
}
