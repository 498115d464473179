/**
 * Inside the preview: no scripts, frames or fetches at all, and images only from https (a
 * template's product pictures) or inline; so neither the platform's own open pixel nor a
 * plain-http address is requested just because an operator looked at a message.
 */
const PREVIEW_POLICY =
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src https: data:; style-src \'unsafe-inline\'">';

/**
 * A message as its recipient sees it. Email HTML goes in a sandboxed iframe with no scripts and
 * no same-origin access, so a template can never act with the operator's API key.
 */
export function RenderedContent(props: {
  channel: 'email' | 'sms' | 'push';
  subject?: string | null;
  html?: string | null;
  text?: string | null;
  body?: string | null;
  title?: string | null;
}) {
  return (
    <div className={`rendered ${props.channel}`}>
      {props.subject && (
        <p>
          <strong>Subject:</strong> <span data-rendered="subject">{props.subject}</span>
        </p>
      )}
      {props.title && (
        <p>
          <strong>Title:</strong> <span data-rendered="title">{props.title}</span>
        </p>
      )}
      {props.html && (
        <iframe
          title="Email HTML"
          sandbox=""
          srcDoc={PREVIEW_POLICY + props.html}
          className="email-frame"
          data-rendered="html"
        />
      )}
      {props.text && (
        <>
          <h3>Text part</h3>
          <pre data-rendered="text">{props.text}</pre>
        </>
      )}
      {props.body && <pre data-rendered="body">{props.body}</pre>}
    </div>
  );
}
