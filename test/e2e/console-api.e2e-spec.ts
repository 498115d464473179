import { readFileSync } from 'node:fs';
import { eventually } from '../support';
import { api, orderPathEvents } from './order-events';
import { usePlatform } from './platform';

/**
 * The read and action endpoints of the operator console, on the whole platform in one process
 * (real Postgres, in-process bus, sandbox channels, the shipped program): customer search and
 * events, the journey map's step counts, the message log with status history, templates and
 * program validation with line and column (contract: /work/briefs/console-api.md, docs/openapi.json).
 */
describe('console API', () => {
  const platform = usePlatform();
  const get = (path: string) => api(platform.baseUrl, path);

  beforeAll(async () => {
    const now = new Date();
    const batch = [
      ...orderPathEvents('c-ann', now),
      ...orderPathEvents('c-anna', now),
      {
        eventId: 'bob-reg',
        type: 'customer.registered',
        occurredAt: now.toISOString(),
        customerId: 'c-bob',
        traits: { email: 'Bob.Stone@Example.com', phone: '+15550100', firstName: 'Bob' },
      },
      // Found by "kat" through the id and the email, and through the email only.
      ...[
        ['kat-1', 'kat-1@shop.example'],
        ['z-9', 'Kat-2@shop.example'],
      ].map(([customerId, email]) => ({
        eventId: `${customerId}-reg`,
        type: 'customer.registered',
        occurredAt: now.toISOString(),
        customerId,
        traits: { email },
      })),
    ];
    expect((await api(platform.baseUrl, '/v1/events', { method: 'POST', body: { batch } })).status).toBe(202);
    await eventually(async () => {
      const log = await get('/v1/messages?journey=second_order_thanks');
      expect(log.body.items).toHaveLength(2);
      expect(log.body.items.every((m: { status: string }) => m.status === 'sent')).toBe(true);
    });
  });

  describe('GET /v1/customers?query=', () => {
    it('finds customers by the start of their id, their email whatever its case, or their phone as typed', async () => {
      const ids = async (query: string) =>
        (await get(`/v1/customers?query=${encodeURIComponent(query)}`)).body.items.map(
          (c: { customerId: string }) => c.customerId,
        );
      expect(await ids('c-an')).toEqual(['c-ann', 'c-anna']);
      expect(await ids('bob.stone@')).toEqual(['c-bob']);
      expect(await ids('+1 555 0100')).toEqual(['c-bob']);
      expect(await ids('%')).toEqual([]);
      expect((await get('/v1/customers?query=c-bob')).body.items[0]).toMatchObject({
        customerId: 'c-bob',
        email: 'Bob.Stone@Example.com',
        phone: '+15550100',
        firstName: 'Bob',
        lastName: null,
      });
    });

    it('pages with a cursor, and refuses a cursor it did not give out', async () => {
      const first = await get('/v1/customers?query=c-&limit=2');
      expect(first.body.items.map((c: { customerId: string }) => c.customerId)).toEqual(['c-ann', 'c-anna']);
      const second = await get(`/v1/customers?query=c-&limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual({
        items: [expect.objectContaining({ customerId: 'c-bob' })],
        nextCursor: null,
      });
      const bad = await get('/v1/customers?cursor=nonsense');
      expect(bad.status).toBe(400);
      expect(bad.body.error.details).toEqual([
        { path: 'cursor', message: 'is not a cursor this list gave out' },
      ]);
      expect((await get('/v1/customers?limit=0')).body.error.details[0].path).toBe('limit');
    });

    it('lists id matches, then email matches, then phone matches, each customer once, across pages', async () => {
      const first = await get('/v1/customers?query=kat&limit=1');
      expect(first.body.items.map((c: { customerId: string }) => c.customerId)).toEqual(['kat-1']);
      const second = await get(`/v1/customers?query=kat&limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual({
        items: [expect.objectContaining({ customerId: 'z-9' })],
        nextCursor: null,
      });
      expect((await get('/v1/customers?query=kat&limit=5')).body).toEqual({
        items: [
          expect.objectContaining({ customerId: 'kat-1' }),
          expect.objectContaining({ customerId: 'z-9' }),
        ],
        nextCursor: null,
      });
    });

    it('needs an API key', async () => {
      expect((await api(platform.baseUrl, '/v1/customers', { key: 'wrong' })).status).toBe(401);
    });
  });

  it("lists a customer's events newest first, a page at a time; 404 for an unknown customer", async () => {
    const page = await get('/v1/customers/c-ann/events?limit=2');
    expect(page.body.items.map((e: { eventId: string }) => e.eventId)).toEqual(['c-ann-o2', 'c-ann-o1']);
    const rest = await get(`/v1/customers/c-ann/events?limit=2&cursor=${page.body.nextCursor}`);
    expect(rest.body).toEqual({
      items: [expect.objectContaining({ eventId: 'c-ann-reg', type: 'customer.registered' })],
      nextCursor: null,
    });
    expect((await get('/v1/customers/c-ann/events?type=order.placed')).body.items).toHaveLength(2);
    expect((await get('/v1/customers/c-nobody/events')).status).toBe(404);
  });

  it('lists the journeys of the program and counts where their instances stand, step by step', async () => {
    const journeys = await get('/v1/journeys');
    expect(journeys.body.items.map((j: { key: string }) => j.key)).toContain('second_order_thanks');
    const steps = await get('/v1/journeys/second_order_thanks/steps');
    expect(steps.body).toMatchObject({
      journeyKey: 'second_order_thanks',
      entered: { treatment: 2, holdout: 0 },
      inFlight: 0,
      completed: { treatment: 2, holdout: 0 },
      steps: [
        {
          stepId: 'thank',
          kind: 'send',
          entered: { treatment: 2, holdout: 0 },
          waitingNow: 0,
          requested: 2,
          suppressed: {},
        },
      ],
    });
    expect((await get('/v1/journeys/no_such_journey/steps')).status).toBe(404);
  });

  it("shows a step's messages, each with its status history, and the step's outcomes", async () => {
    const log = await get('/v1/messages?journey=second_order_thanks&step=thank&status=sent&channel=email');
    expect(log.body.items.map((m: { customerId: string }) => m.customerId).sort()).toEqual([
      'c-ann',
      'c-anna',
    ]);
    const one = await get(`/v1/messages/${log.body.items[0].messageId}`);
    expect(one.body).toMatchObject({ subject: 'Thanks for your second order, Ann!', status: 'sent' });
    expect(one.body.statusHistory.map((h: { status: string }) => h.status)).toContain('sent');
    expect((await get('/v1/messages?channel=pigeon')).status).toBe(400);
    expect((await get(`/v1/messages?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).body.items).toEqual(
      [],
    );
    expect((await get('/v1/messages/no-such-message')).status).toBe(404);
    const summary = await get('/v1/messages/summary?journey=second_order_thanks');
    expect(summary.body).toEqual({
      journeyKey: 'second_order_thanks',
      steps: [
        {
          stepId: 'thank',
          messages: 2,
          statuses: { sent: 2 },
          suppressed: {},
          failed: {},
          variants: [{ variant: null, messages: 2, statuses: { sent: 2 } }],
        },
      ],
    });
  });

  it('lists templates', async () => {
    expect((await get('/v1/templates')).body.items).toContainEqual({
      name: 'second_order_email',
      channel: 'email',
    });
  });

  describe('POST /v1/program/validate', () => {
    const source = readFileSync('program/program.yaml', 'utf8');
    const validate = async (body: string) => {
      const response = await fetch(`${platform.baseUrl}/v1/program/validate`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-key', 'content-type': 'application/yaml' },
        body,
      });
      return {
        status: response.status,
        body: (await response.json()) as {
          valid: boolean;
          errors: unknown[];
          diff?: string;
          journeys?: unknown[];
        },
      };
    };

    it('reports each problem at its line and column, and changes nothing', async () => {
      const broken = source.replace('priority: 5', 'priority: five');
      const line = broken.split('\n').findIndex((l) => l.includes('priority: five')) + 1;
      const answer = await validate(broken);
      expect(answer.status).toBe(200);
      expect(answer.body.valid).toBe(false);
      expect(answer.body.errors).toEqual([
        expect.objectContaining({ path: expect.stringMatching(/priority$/), line, column: 15 }),
      ]);
    });

    it('shows the diff and which journeys keep in-flight customers on their version', async () => {
      const answer = await validate(source.replace('priority: 5', 'priority: 7'));
      expect(answer.body).toMatchObject({ valid: true, errors: [] });
      expect(answer.body.diff).toContain('+    priority: 7');
      expect(answer.body.journeys).toContainEqual(
        expect.objectContaining({
          key: 'second_order_thanks',
          change: 'changed',
          inFlightStayingOnCurrent: 0,
        }),
      );
      const program = await get('/v1/program');
      expect(
        program.body.journeys.find((j: { key: string }) => j.key === 'second_order_thanks').priority,
      ).toBe(5);
    });
  });

  it('serves the OpenAPI document and the reference page without a key', async () => {
    const document = (await (await fetch(`${platform.baseUrl}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/customers', '/v1/messages/{messageId}']),
    );
    const page = await fetch(`${platform.baseUrl}/docs`);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    const bundle = await fetch(`${platform.baseUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await fetch(`${platform.baseUrl}/docs/assets/package.json`)).status).toBe(404);
  });
});
