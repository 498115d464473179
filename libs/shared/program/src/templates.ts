import Handlebars from 'handlebars';
import { z } from 'zod';
import { errorText } from './issues';
import { NonEmptyText } from './primitives';

/**
 * Message templates (SPEC section 5): Handlebars, HTML-escaped by default, rendered with
 * `customer`, `milestone`, `journey`, `offer` and `unsubscribeUrl`. Each source is compiled
 * when the program is loaded, so a typo in a template stops the program, not a send.
 */

/** Handlebars' error text on one line, without its code frame (the line and caret it draws). */
function handlebarsProblem(source: string): string | undefined {
  try {
    Handlebars.precompile(source);
    return undefined;
  } catch (error) {
    const text = errorText(error);
    const lines = text.split('\n');
    const framed = lines.length >= 3 && /^-*\^$/.test(lines[2] ?? '');
    const kept = framed ? [lines[0], ...lines.slice(3)] : lines;
    return kept
      .map((line) => (line ?? '').trim())
      .filter(Boolean)
      .join(' ');
  }
}

/** Template text that must compile as Handlebars. */
export const TemplateSource = z.string().superRefine((source, ctx) => {
  const problem = handlebarsProblem(source);
  if (problem !== undefined)
    ctx.addIssue({ code: 'custom', message: `is not a valid Handlebars template: ${problem}` });
});

const RequiredSource = NonEmptyText.pipe(TemplateSource);

export const EmailTemplate = z
  .strictObject({
    channel: z.literal('email'),
    subject: RequiredSource,
    /** The HTML body; links are wrapped for click tracking and an open pixel is added. */
    html: TemplateSource.optional(),
    /** The plain-text body. */
    text: TemplateSource.optional(),
    /** A layout of the program's `layouts` that wraps the html body. */
    layout: z.string().optional(),
    /** Click and open tracking (on unless `false`): links wrapped through PUBLIC_URL/t/c/..., an open pixel /t/o/... */
    tracking: z.boolean().optional(),
    description: z.string().optional(),
  })
  .superRefine(
    (template, ctx) => {
      if (template.html === undefined && template.text === undefined)
        ctx.addIssue({ code: 'custom', message: 'must have a body: html, text or both' });
    },
    // A misspelled body key (`txt`) is reported as such; "no body" would only repeat it.
    { when: (payload) => payload.issues.length === 0 },
  );
export type EmailTemplate = z.infer<typeof EmailTemplate>;

export const SmsTemplate = z.strictObject({
  channel: z.literal('sms'),
  body: RequiredSource,
  description: z.string().optional(),
});
export type SmsTemplate = z.infer<typeof SmsTemplate>;

export const PushTemplate = z.strictObject({
  channel: z.literal('push'),
  title: RequiredSource,
  body: RequiredSource,
  /** Key-value data for the app (deep link, offer code...); values are templates too. */
  data: z.record(z.string(), TemplateSource).optional(),
  description: z.string().optional(),
});
export type PushTemplate = z.infer<typeof PushTemplate>;

export const TemplateDefinition = z.discriminatedUnion('channel', [EmailTemplate, SmsTemplate, PushTemplate]);
export type TemplateDefinition = z.infer<typeof TemplateDefinition>;
