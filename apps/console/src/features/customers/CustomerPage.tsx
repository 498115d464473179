import { useState } from 'react';
import { api, withQuery } from '../../api/client';
import type {
  ConsentChange,
  ConsentState,
  CustomerEvent,
  CustomerProfile,
  JourneyInstance,
  MessageView,
  MilestoneReached,
  Page,
  TemplateSummary,
} from '../../api/types';
import { formatTime, formatValue } from '../../app/format';
import { href, navigate } from '../../app/route';
import { Status } from '../../app/Status';
import { describeError, useApi } from '../../app/use-api';
import { mergeTimeline } from './timeline';

/** Everything the five services know about one customer; the timeline is merged here, in the browser. */
async function loadCustomer(customerId: string) {
  const id = encodeURIComponent(customerId);
  const [profile, events, milestones, journeys, messages, consent, consentHistory] = await Promise.all([
    api<CustomerProfile>(`/v1/customers/${id}`),
    api<Page<CustomerEvent>>(withQuery(`/v1/customers/${id}/events`, { limit: 200 })),
    api<MilestoneReached[]>(`/v1/customers/${id}/milestones`),
    api<JourneyInstance[]>(`/v1/customers/${id}/journeys`),
    api<MessageView[]>(`/v1/customers/${id}/messages`),
    api<ConsentState>(`/v1/customers/${id}/consent`),
    api<ConsentChange[]>(`/v1/customers/${id}/consent/history`),
  ]);
  // The message list has the current status only; each message's history tells every change.
  const detailed = await Promise.all(
    messages.map((message) => api<MessageView>(`/v1/messages/${encodeURIComponent(message.messageId)}`)),
  );
  return {
    profile,
    consent,
    moreEvents: events.nextCursor !== null,
    timeline: mergeTimeline({
      events: events.items,
      milestones,
      journeys,
      messages: detailed,
      consent: consentHistory,
    }),
  };
}

export function CustomerPage({ customerId }: { customerId: string }) {
  const loaded = useApi(() => loadCustomer(customerId), [customerId]);
  const templates = useApi(() => api<{ items: TemplateSummary[] }>('/v1/templates'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [erasing, setErasing] = useState(false);
  const [confirmation, setConfirmation] = useState('');
  const [template, setTemplate] = useState('');

  const changeConsent = async (channel: string, status: 'opted_in' | 'opted_out') => {
    try {
      await api(`/v1/customers/${encodeURIComponent(customerId)}/consent/${channel}`, {
        method: 'PUT',
        body: { status, source: 'console', actor: 'operator' },
      });
      setNotice(`${channel}: ${status.replace('_', ' ')}`);
      loaded.reload();
    } catch (error) {
      setNotice(describeError(error));
    }
  };
  const erase = async () => {
    try {
      await api(`/v1/customers/${encodeURIComponent(customerId)}`, { method: 'DELETE' });
      navigate(href('customers'));
    } catch (error) {
      setNotice(describeError(error));
    }
  };

  if (!loaded.data) return <Status loaded={loaded} />;
  const { profile, consent, timeline, moreEvents } = loaded.data;
  return (
    <section>
      <p>
        <a href={href('customers')}>Customers</a> /
      </p>
      <h1>{customerId}</h1>
      {notice && <p role="status">{notice}</p>}
      <div className="columns">
        <div>
          <h2>Traits</h2>
          <Facts values={profile.traits} />
          <h2>Computed attributes</h2>
          <Facts values={profile.attributes} />
          <h2>Consent</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Allowed</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {consent.channels.map((channel) => (
                <tr key={channel.channel}>
                  <td>{channel.channel}</td>
                  <td>
                    {channel.status} <small>({channel.model})</small>
                  </td>
                  <td>{channel.allowed ? 'yes' : 'no'}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void changeConsent(
                          channel.channel,
                          channel.status === 'opted_in' ? 'opted_out' : 'opted_in',
                        )
                      }
                    >
                      {channel.status === 'opted_in'
                        ? `Opt out of ${channel.channel}`
                        : `Opt in to ${channel.channel}`}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Actions</h2>
          <div className="row">
            <label htmlFor="preview-template">Preview a template for this customer</label>
            <select
              id="preview-template"
              value={template}
              onChange={(event) => setTemplate(event.target.value)}
            >
              <option value="">choose…</option>
              {templates.data?.items.map((item) => (
                <option key={item.name} value={item.name}>
                  {item.name} ({item.channel})
                </option>
              ))}
            </select>
            <button
              type="button"
              disabled={!template}
              onClick={() =>
                navigate(`${href('templates', template)}?customer=${encodeURIComponent(customerId)}`)
              }
            >
              Preview
            </button>
          </div>
          {!erasing ? (
            <button type="button" className="danger" onClick={() => setErasing(true)}>
              Erase customer…
            </button>
          ) : (
            <div role="group" aria-labelledby="erase-title" className="confirm">
              <p id="erase-title">
                Erasing removes this customer&apos;s profile, events and personal data from every service. It
                cannot be undone. Type <code>{customerId}</code> to confirm.
              </p>
              <label htmlFor="erase-confirm">Customer id</label>
              <input
                id="erase-confirm"
                value={confirmation}
                onChange={(event) => setConfirmation(event.target.value)}
              />
              <button
                type="button"
                className="danger"
                disabled={confirmation !== customerId}
                onClick={() => void erase()}
              >
                Erase {customerId}
              </button>
              <button type="button" onClick={() => setErasing(false)}>
                Cancel
              </button>
            </div>
          )}
        </div>
        <div>
          <h2>Timeline</h2>
          <ol className="timeline" aria-label="Timeline">
            {timeline.map((entry) => (
              <li key={entry.id} data-kind={entry.kind}>
                <time dateTime={entry.at}>{formatTime(entry.at)}</time>
                <span className={`tag ${entry.kind}`}>{entry.kind}</span>
                <strong>{entry.title}</strong>
                {entry.detail && <span className="detail">{entry.detail}</span>}
              </li>
            ))}
          </ol>
          {moreEvents && <p className="hint">Showing the latest 200 events.</p>}
        </div>
      </div>
    </section>
  );
}

function Facts({ values }: { values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="hint">none</p>;
  return (
    <dl className="facts">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{formatValue(value)}</dd>
        </div>
      ))}
    </dl>
  );
}
