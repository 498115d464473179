import { useState, type FormEvent } from 'react';
import { api, withQuery } from '../../api/client';
import type { CustomerSummary, Page } from '../../api/types';
import { href, navigate } from '../../app/route';
import { useApi } from '../../app/use-api';
import { Status } from '../../app/Status';
import { formatTime } from '../../app/format';

/** Search by customer id, email or phone (prefix); the query lives in the URL so it can be shared. */
export function CustomersPage({ query }: { query: string }) {
  const [typed, setTyped] = useState(query);
  const [pages, setPages] = useState<CustomerSummary[]>([]);
  const first = useApi(
    () => api<Page<CustomerSummary>>(withQuery('/v1/customers', { query, limit: 50 })),
    [query],
  );
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const nextCursor = cursor === undefined ? first.data?.nextCursor : cursor;
  const more = async () => {
    if (!nextCursor) return;
    const page = await api<Page<CustomerSummary>>(
      withQuery('/v1/customers', { query, limit: 50, cursor: nextCursor }),
    );
    setPages((shown) => [...shown, ...page.items]);
    setCursor(page.nextCursor);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setPages([]);
    setCursor(undefined);
    navigate(`#/customers?query=${encodeURIComponent(typed.trim())}`);
  };
  const rows = [...(first.data?.items ?? []), ...pages];
  return (
    <section>
      <h1>Customers</h1>
      <form role="search" onSubmit={submit} className="row">
        <label htmlFor="customer-query">Customer id, email or phone</label>
        <input
          id="customer-query"
          type="search"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          placeholder="c-42, ann@, +1 555"
        />
        <button type="submit">Search</button>
      </form>
      <Status loaded={first} />
      {first.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">Customer</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Phone</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((customer) => (
              <tr key={customer.customerId}>
                <td>
                  <a href={href('customers', customer.customerId)}>{customer.customerId}</a>
                </td>
                <td>{[customer.firstName, customer.lastName].filter(Boolean).join(' ')}</td>
                <td>{customer.email}</td>
                <td>{customer.phone}</td>
                <td>{formatTime(customer.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {first.data && rows.length === 0 && <p>No customer matches {query ? `"${query}"` : 'yet'}.</p>}
      {nextCursor && (
        <button type="button" onClick={() => void more()}>
          More
        </button>
      )}
    </section>
  );
}
