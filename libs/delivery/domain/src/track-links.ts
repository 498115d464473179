/** Signs the tracking URLs of one message (PUBLIC_URL/t/c/{token} and /t/o/{token}). */
export interface LinkTracker {
  click(url: string): string;
  open(): string;
}

const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

/**
 * Wraps every http(s) link of an html body for click tracking and adds an open pixel (before
 * `</body>` when there is one). Links in `keep` (the unsubscribe URL) are left alone, and so
 * are mailto: and relative links.
 */
export function trackLinks(html: string, tracker: LinkTracker, keep: readonly string[]): string {
  const wrapped = html.replace(ANCHOR_HREF, (whole, start: string, quote: string, href: string) => {
    const url = unescapeHtml(href);
    if (keep.includes(url)) return whole;
    return `${start}${quote}${escapeHtml(tracker.click(url))}${quote}`;
  });
  const pixel = `<img src="${escapeHtml(tracker.open())}" width="1" height="1" alt="" style="display:none">`;
  const bodyEnd = wrapped.search(/<\/body>/i);
  return bodyEnd === -1
    ? `${wrapped}${pixel}`
    : `${wrapped.slice(0, bodyEnd)}${pixel}${wrapped.slice(bodyEnd)}`;
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&#x3D;/g, '=')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"');
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}
