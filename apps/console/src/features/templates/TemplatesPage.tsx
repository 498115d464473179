import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { TemplatePreview, TemplateSummary } from '../../api/types';
import { href, navigate } from '../../app/route';
import { Status } from '../../app/Status';
import { describeError, useApi } from '../../app/use-api';
import { RenderedContent } from '../messages/RenderedContent';

/** A template rendered for a real customer (their traits, consent links), and a test send. */
export function TemplatesPage({
  template,
  customerId,
}: {
  template: string | undefined;
  customerId: string;
}) {
  const templates = useApi(() => api<{ items: TemplateSummary[] }>('/v1/templates'), []);
  const [customer, setCustomer] = useState(customerId);
  const [sendTo, setSendTo] = useState('');
  const [result, setResult] = useState<TemplatePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const preview = async (withSend: boolean) => {
    if (!template) return;
    setError(null);
    try {
      setResult(
        await api<TemplatePreview>(`/v1/templates/${encodeURIComponent(template)}/preview`, {
          method: 'POST',
          body: { customerId: customer, ...(withSend ? { sendTo } : {}) },
        }),
      );
    } catch (failure) {
      setResult(null);
      setError(describeError(failure));
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void preview(false);
  };
  return (
    <section>
      <h1>Templates</h1>
      <Status loaded={templates} />
      <div className="columns">
        <nav aria-label="Templates">
          <ul className="plain">
            {templates.data?.items.map((item) => (
              <li key={item.name}>
                <a
                  href={`${href('templates', item.name)}${customer ? `?customer=${encodeURIComponent(customer)}` : ''}`}
                  aria-current={item.name === template ? 'page' : undefined}
                >
                  {item.name}
                </a>{' '}
                <small>{item.channel}</small>
              </li>
            ))}
          </ul>
        </nav>
        <div>
          {!template && <p>Choose a template.</p>}
          {template && (
            <>
              <h2>{template}</h2>
              <form className="row" onSubmit={submit}>
                <label htmlFor="preview-customer">For customer</label>
                <input
                  id="preview-customer"
                  value={customer}
                  required
                  onChange={(event) => setCustomer(event.target.value)}
                  onBlur={() =>
                    navigate(`${href('templates', template)}?customer=${encodeURIComponent(customer)}`)
                  }
                />
                <button type="submit" disabled={!customer}>
                  Preview
                </button>
              </form>
              <form
                className="row"
                onSubmit={(event) => {
                  event.preventDefault();
                  void preview(true);
                }}
              >
                <label htmlFor="send-to">Test send to</label>
                <input
                  id="send-to"
                  value={sendTo}
                  placeholder="you@example.com, +15550100 or a push token"
                  onChange={(event) => setSendTo(event.target.value)}
                />
                <button type="submit" disabled={!customer || !sendTo}>
                  Send test
                </button>
              </form>
              {error && <p role="alert">{error}</p>}
              {result?.testSend && (
                <p role="status">
                  Test sent to {result.testSend.to} via {result.testSend.provider} (
                  {result.testSend.providerMessageId})
                </p>
              )}
              {result && <RenderedContent {...result} />}
            </>
          )}
        </div>
      </div>
    </section>
  );
}
