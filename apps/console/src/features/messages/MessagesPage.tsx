import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { MessageView } from '../../api/types';
import { formatTime } from '../../app/format';
import { href, navigate } from '../../app/route';
import { Status } from '../../app/Status';
import { useApi } from '../../app/use-api';
import { MessageTable } from './MessageTable';
import { RenderedContent } from './RenderedContent';

const FILTERS = ['status', 'channel', 'journey', 'template', 'customerId', 'from', 'to'] as const;
const STATUSES = ['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'failed', 'suppressed'];
const CHANNELS = ['email', 'sms', 'push'];

export function MessagesPage({
  messageId,
  filters,
}: {
  messageId: string | undefined;
  filters: URLSearchParams;
}) {
  if (messageId) return <MessageDetail messageId={messageId} />;
  return <MessageLog filters={filters} />;
}

function MessageLog({ filters }: { filters: URLSearchParams }) {
  const current = Object.fromEntries(FILTERS.map((name) => [name, filters.get(name) ?? '']));
  const [typed, setTyped] = useState(current);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const query = new URLSearchParams(Object.entries(typed).filter(([, value]) => value !== ''));
    navigate(`${href('messages')}?${query.toString()}`);
  };
  const field = (name: (typeof FILTERS)[number], label: string, options?: string[]) => (
    <div className="field" key={name}>
      <label htmlFor={`filter-${name}`}>{label}</label>
      {options ? (
        <select
          id={`filter-${name}`}
          value={typed[name]}
          onChange={(event) => setTyped({ ...typed, [name]: event.target.value })}
        >
          <option value="">any</option>
          {options.map((option) => (
            <option key={option}>{option}</option>
          ))}
        </select>
      ) : (
        <input
          id={`filter-${name}`}
          value={typed[name]}
          placeholder={name === 'from' || name === 'to' ? '2027-03-15T00:00:00Z' : ''}
          onChange={(event) => setTyped({ ...typed, [name]: event.target.value })}
        />
      )}
    </div>
  );
  return (
    <section>
      <h1>Messages</h1>
      <form className="filters" onSubmit={submit} aria-label="Filters">
        {field('status', 'Status', STATUSES)}
        {field('channel', 'Channel', CHANNELS)}
        {field('journey', 'Journey')}
        {field('template', 'Template')}
        {field('customerId', 'Customer')}
        {field('from', 'From')}
        {field('to', 'To')}
        <button type="submit">Filter</button>
      </form>
      <MessageTable filters={current} />
    </section>
  );
}

function MessageDetail({ messageId }: { messageId: string }) {
  const loaded = useApi(() => api<MessageView>(`/v1/messages/${encodeURIComponent(messageId)}`), [messageId]);
  if (!loaded.data) return <Status loaded={loaded} />;
  const message = loaded.data;
  return (
    <section>
      <p>
        <a href={href('messages')}>Messages</a> /
      </p>
      <h1>{message.messageId}</h1>
      <dl className="facts">
        {(
          [
            ['customer', <a href={href('customers', message.customerId)}>{message.customerId}</a>],
            [
              'journey',
              message.journeyKey && <a href={href('journeys', message.journeyKey)}>{message.journeyKey}</a>,
            ],
            ['step', message.stepId],
            ['milestone', message.milestoneKey],
            ['channel', message.channel],
            ['template', `${message.template}${message.variant ? ` (${message.variant})` : ''}`],
            ['to', message.to],
            ['status', `${message.status}${message.reason ? ` (${message.reason})` : ''}`],
            ['created', formatTime(message.createdAt)],
            ['sent', formatTime(message.sentAt)],
          ] as const
        ).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h2>Status history</h2>
      <table aria-label="Status history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {(message.statusHistory ?? []).map((change, index) => (
            <tr key={index}>
              <td>{formatTime(change.occurredAt)}</td>
              <td>{change.status}</td>
              <td>{change.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Content</h2>
      <RenderedContent
        channel={message.channel}
        subject={message.subject}
        html={
          message.channel === 'email' && message.body && /<[a-z]/i.test(message.body) ? message.body : null
        }
        text={
          message.channel === 'email' && message.body && !/<[a-z]/i.test(message.body) ? message.body : null
        }
        body={message.channel === 'email' ? null : message.body}
        title={null}
      />
    </section>
  );
}
