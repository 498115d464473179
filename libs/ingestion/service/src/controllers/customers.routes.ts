import { CustomerProfileSnapshot } from '@mmp/contracts';
import { apiRoute, pageOf, PageQuery } from '@mmp/server';
import { z } from 'zod';

const CustomerParams = z.object({ customerId: z.string().min(1).max(128) });

export const CustomerSummary = z
  .object({
    customerId: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    registeredAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'CustomerSummary' });

export const StoredEvent = z
  .object({
    eventId: z.string(),
    type: z.string(),
    occurredAt: z.string(),
    receivedAt: z.string(),
    properties: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'StoredEvent' });

export const searchCustomersRoute = apiRoute({
  method: 'get',
  path: '/v1/customers',
  tag: 'customers',
  summary: 'Search customers by the start of their id, email or phone',
  description:
    'Id prefix (case-sensitive), then email prefix (case-insensitive), then phone prefix (spaces, dashes and brackets ignored): id matches first by id, then email matches by email, then phone matches by phone, each customer once (under the first key it matches). Erased customers are not found. Without `query` every customer, by id.',
  query: PageQuery.extend({ query: z.string().trim().min(1).max(256).optional() }),
  responses: { 200: { description: 'A page of customers', schema: pageOf(CustomerSummary) } },
});

export const customerEventsRoute = apiRoute({
  method: 'get',
  path: '/v1/customers/{customerId}/events',
  tag: 'customers',
  summary: "The customer's accepted events, newest first",
  params: CustomerParams,
  query: PageQuery.extend({ type: z.string().min(1).max(128).optional() }),
  responses: {
    200: { description: 'A page of events', schema: pageOf(StoredEvent) },
    404: { description: 'Unknown or erased customer' },
  },
});

export const getCustomerRoute = apiRoute({
  method: 'get',
  path: '/v1/customers/{customerId}',
  tag: 'customers',
  summary: 'The profile with its traits and computed attributes',
  params: CustomerParams,
  responses: {
    200: { description: 'The profile', schema: CustomerProfileSnapshot },
    404: { description: 'Unknown or erased customer' },
  },
});

export const eraseCustomerRoute = apiRoute({
  method: 'delete',
  path: '/v1/customers/{customerId}',
  tag: 'customers',
  summary: 'Erasure: afterwards no trait or message body of the customer remains; aggregates stay',
  params: CustomerParams,
  responses: { 202: { description: 'Erased here; the other services erase theirs from the erasure event' } },
});
