import type { Channel } from '@mmp/contracts';
import Handlebars from 'handlebars';

/** The template fields of every channel (SPEC section 5); which are set depends on the channel. */
export interface TemplateSource {
  channel: Channel;
  subject?: string;
  html?: string;
  text?: string;
  body?: string;
  title?: string;
}

export interface RenderContext {
  customer: Record<string, unknown>;
  milestone: Record<string, unknown>;
  journey: Record<string, unknown>;
  offer: Record<string, unknown>;
  unsubscribeUrl: string;
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

/**
 * Renders a template with Handlebars, HTML-escaped by default. Compiled templates are cached
 * per source text. A failure (a syntax error, a missing helper, a strict lookup) fails this one
 * message with `render_error`; it never throws into the step loop.
 */
export class TemplateRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly cache = new Map<string, Handlebars.TemplateDelegate>();

  render(template: TemplateSource, context: RenderContext): RenderOutcome {
    try {
      return {
        ok: true,
        message: {
          subject: this.renderField(template.subject, context),
          html: this.renderField(template.html, context),
          text: this.renderField(template.text, context),
          body: this.renderField(template.body, context),
          title: this.renderField(template.title, context),
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

  private renderField(source: string | undefined, context: RenderContext): string | undefined {
    if (source === undefined) return undefined;
    let compiled = this.cache.get(source);
    if (!compiled) {
      compiled = this.handlebars.compile(source, { strict: false, knownHelpersOnly: false });
      this.cache.set(source, compiled);
    }
    return compiled(context);
  }
}
