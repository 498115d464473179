import { confirmPage, invalidLinkPage, PAGE_HEADERS, unsubscribedPage } from './unsubscribe-page';

describe('the unsubscribe pages', () => {
  const pages = [confirmPage('email'), unsubscribedPage('sms'), invalidLinkPage()];

  it('load nothing from anywhere: no script, stylesheet, image, font or absolute URL', () => {
    for (const html of pages) {
      expect(html).not.toMatch(/<script|<link|<img|@import|url\(|https?:\/\//i);
    }
    expect(PAGE_HEADERS['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(PAGE_HEADERS['referrer-policy']).toBe('no-referrer');
  });

  it('confirm with a form that posts back to the same link, and name the channel in words', () => {
    const html = confirmPage('email');
    expect(html).toContain('<form method="post">');
    expect(html).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(html).toContain('<button type="submit" id="confirm">Unsubscribe</button>');
    expect(html).toContain('You will no longer receive emails from us');
    expect(unsubscribedPage('push')).toContain('We will not send you push notifications any more.');
  });

  it('escape a channel name it does not know', () => {
    expect(confirmPage('<b>"fax"</b>')).toContain('receive &#60;b&#62;&#34;fax&#34;&#60;/b&#62; from us');
  });
});
