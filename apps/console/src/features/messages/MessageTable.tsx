import { useState } from 'react';
import { api, withQuery, type Query } from '../../api/client';
import type { MessageView, Page } from '../../api/types';
import { formatTime } from '../../app/format';
import { href } from '../../app/route';
import { Status } from '../../app/Status';
import { useApi } from '../../app/use-api';

/** The message log for some filters, newest first, a page at a time. */
export function MessageTable({ filters }: { filters: Query }) {
  const signature = JSON.stringify(filters);
  const first = useApi(
    () => api<Page<MessageView>>(withQuery('/v1/messages', { ...filters, limit: 50 })),
    [signature],
  );
  const [more, setMore] = useState<{ signature: string; items: MessageView[]; cursor: string | null } | null>(
    null,
  );
  const extra = more?.signature === signature ? more : null;
  const cursor = extra ? extra.cursor : first.data?.nextCursor;
  const loadMore = async () => {
    if (!cursor) return;
    const page = await api<Page<MessageView>>(withQuery('/v1/messages', { ...filters, limit: 50, cursor }));
    setMore({ signature, items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor });
  };
  if (!first.data) return <Status loaded={first} />;
  const rows = [...first.data.items, ...(extra?.items ?? [])];
  return (
    <>
      <table aria-label="Messages">
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Message</th>
            <th scope="col">Customer</th>
            <th scope="col">Journey / step</th>
            <th scope="col">Channel</th>
            <th scope="col">Template</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((message) => (
            <tr key={message.messageId}>
              <td>{formatTime(message.createdAt)}</td>
              <td>
                <a href={href('messages', message.messageId)}>{message.messageId}</a>
              </td>
              <td>
                <a href={href('customers', message.customerId)}>{message.customerId}</a>
              </td>
              <td>{message.journeyKey ? `${message.journeyKey} / ${message.stepId ?? ''}` : ''}</td>
              <td>{message.channel}</td>
              <td>
                {message.template}
                {message.variant ? ` (${message.variant})` : ''}
              </td>
              <td>
                <span className={`status ${message.status}`}>{message.status}</span>
                {message.reason ? ` ${message.reason}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p>No message matches.</p>}
      {cursor && (
        <button type="button" onClick={() => void loadMore()}>
          More
        </button>
      )}
    </>
  );
}
