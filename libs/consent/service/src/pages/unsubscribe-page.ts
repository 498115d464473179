/**
 * The pages of `GET /u/{token}` and its confirmation: plain HTML served by the platform, with
 * inline styles only (no CDN, no script), so the page works in any mail client's browser and
 * under a `default-src 'none'` content security policy.
 */

/** Headers for every unsubscribe page: nothing loads from elsewhere, the token never leaks in a Referer. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
};

const CHANNEL_WORDS: Readonly<Record<string, string>> = {
  email: 'emails',
  sms: 'text messages',
  push: 'push notifications',
};

function channelInWords(channel: string): string {
  return Object.hasOwn(CHANNEL_WORDS, channel) ? (CHANNEL_WORDS[channel] ?? channel) : channel;
}

export function confirmPage(channel: string): string {
  const what = escapeHtml(channelInWords(channel));
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe?</h1>
    <p>You will no longer receive ${what} from us about your milestones and offers.</p>
    <form method="post">
      <input type="hidden" name="confirm" value="yes">
      <button type="submit" id="confirm">Unsubscribe</button>
    </form>`,
  );
}

export function unsubscribedPage(channel: string): string {
  const what = escapeHtml(channelInWords(channel));
  return page(
    'Unsubscribed',
    `<h1 id="done">You are unsubscribed</h1>
    <p>We will not send you ${what} any more. It may take a moment for messages already on their way to stop.</p>`,
  );
}

export function invalidLinkPage(): string {
  return page(
    'Link not valid',
    `<h1>This link is not valid</h1>
    <p>It may have expired or been changed. Use the unsubscribe link of a recent message, or contact us.</p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #1f2933; }
    h1 { font-size: 1.5rem; }
    button { font-size: 1rem; padding: .6rem 1.4rem; border: 0; border-radius: .3rem; background: #1f2933; color: #fff; cursor: pointer; }
  </style>
</head>
<body>
  <main>
    ${body}
  </main>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
