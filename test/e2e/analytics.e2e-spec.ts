import { liftOf } from '@mmp/analytics-domain';
import { AnalyticsModule, PublishJourneyMetricsUseCase } from '@mmp/analytics-service';
import { InMemoryBus } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import {
  ConversionsTopic,
  CustomerEventsTopic,
  JourneyEntriesTopic,
  JourneyMetricsTopic,
  MessagesEventsTopic,
  type CustomerEventV1,
  type JourneyEntryV1,
  type MessageEventV1,
} from '@mmp/contracts';
import { signLinkToken } from '@mmp/links';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { queryRows, serviceDatabaseToken } from '@mmp/persistence';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { useTestDatabase } from '../support';
import { launchChromium } from './browser';

/**
 * The analytics service alone on real Postgres and the in-process bus. Journey entries, message
 * statuses and customer events are published as journeys, delivery and ingestion would.
 */

const LINK_SECRET = 'analytics-e2e-link-secret';
const PROGRAM = `
milestones:
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
journeys:
  - key: birthday_sequence
    trigger: birthday
    holdoutPercent: 10
    goal: { event: order.placed, withinDays: 7 }
    steps:
      - { id: celebrate, send: { template: birthday_email } }
templates:
  birthday_email: { channel: email, subject: 'Happy birthday', text: 'Happy birthday' }
`;
const ENTERED = new Date('2030-03-15T14:00:00Z');
const WINDOW_ENDS = new Date('2030-03-22T14:00:00Z');
const AN_HOUR_LATER = new Date(ENTERED.getTime() + 3_600_000);
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15';

const at = (offsetMs: number): string => new Date(ENTERED.getTime() + offsetMs).toISOString();

function entry(customerId: string, group: 'treatment' | 'holdout'): JourneyEntryV1 {
  return {
    schemaVersion: 1,
    instanceId: `inst-${customerId}`,
    journeyKey: 'birthday_sequence',
    journeyVersion: '3f9a1c0b7d2e',
    customerId,
    milestoneKey: 'birthday',
    group,
    enteredAt: ENTERED.toISOString(),
    goal: { event: 'order.placed', windowEndsAt: WINDOW_ENDS.toISOString() },
  };
}

function customerEvent(
  eventId: string,
  customerId: string,
  type: string,
  occurredAt: string,
  properties: Record<string, unknown>,
): CustomerEventV1 {
  return {
    schemaVersion: 1,
    eventId,
    type,
    occurredAt,
    receivedAt: occurredAt,
    customerId,
    anonymousId: null,
    properties,
    triggerable: true,
    profile: {
      customerId,
      traits: {},
      attributes: {
        lifetimeOrders: 1,
        lifetimeValue: '0',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: null,
        eventCounts: {},
      },
    },
  };
}

function messageEvent(
  customerId: string,
  stepId: string,
  status: MessageEventV1['status'],
  variant: string | null = null,
): MessageEventV1 {
  return {
    schemaVersion: 1,
    messageId: `msg-${customerId}-${stepId}`,
    customerId,
    journeyKey: 'birthday_sequence',
    stepId,
    milestoneKey: 'birthday',
    channel: 'email',
    template: variant ?? 'birthday_email',
    variant,
    status,
    reason: null,
    occurredAt: ENTERED.toISOString(),
  };
}

const ORDER = (id: string, total: string): Record<string, unknown> => ({
  orderId: id,
  total,
  currency: 'USD',
});

describe('the analytics service', () => {
  const database = useTestDatabase();
  let app: INestApplication;
  let bus: InMemoryBus;
  let clock: SandboxClock;
  let baseUrl: string;

  beforeAll(async () => {
    bus = new InMemoryBus();
    clock = new SandboxClock();
    clock.moveTo(AN_HOUR_LATER);
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      LINK_SECRET,
      SANDBOX: 'true',
      LOG_LEVEL: 'warn',
    });
    app = await startServices({
      name: 'analytics',
      services: [AnalyticsModule],
      config,
      bus,
      clock,
      program: new ProgramStore(parseProgram(PROGRAM)),
    });
    baseUrl = await loopbackUrlOf(app);

    await publishAll();
  });

  afterAll(async () => {
    await app.close();
  });

  /** Orders and refunds first for some customers and after the entries for others: arrival order must not matter. */
  async function publishAll(): Promise<void> {
    await bus.publish(CustomerEventsTopic, [
      // c-3 buys at the very instant of entry, before its entry reaches analytics; 20.00 is refunded.
      { key: 'c-3', value: customerEvent('e-c3-order', 'c-3', 'order.placed', at(0), ORDER('o-3', '50.00')) },
      {
        key: 'c-3',
        value: customerEvent('e-c3-refund', 'c-3', 'order.refunded', at(86_400_000), {
          orderId: 'o-3',
          amount: '20.00',
          currency: 'USD',
        }),
      },
    ]);
    await bus.whenIdle();
    await bus.publish(
      JourneyEntriesTopic,
      [
        entry('c-1', 'treatment'),
        entry('c-2', 'treatment'),
        entry('c-3', 'treatment'),
        entry('c-4', 'treatment'),
      ]
        .concat([entry('h-1', 'holdout'), entry('h-2', 'holdout')])
        .map((value) => ({ key: value.customerId, value })),
    );
    await bus.publish(
      MessagesEventsTopic,
      [
        ...['c-1', 'c-2', 'c-3', 'c-4'].map((c) => messageEvent(c, 'celebrate', 'sent')),
        messageEvent('c-1', 'celebrate', 'delivered'),
        messageEvent('c-2', 'celebrate', 'bounced'),
        messageEvent('c-1', 'nudge', 'sent', 'followup_a'),
        messageEvent('c-3', 'nudge', 'sent', 'followup_b'),
        messageEvent('c-4', 'nudge', 'suppressed', 'followup_a'),
      ].map((value) => ({ key: value.customerId, value })),
    );
    await bus.whenIdle();
    await bus.publish(CustomerEventsTopic, [
      // c-1 buys exactly at the end of the window: a conversion.
      {
        key: 'c-1',
        value: customerEvent(
          'e-c1-order',
          'c-1',
          'order.placed',
          WINDOW_ENDS.toISOString(),
          ORDER('o-1', '100.00'),
        ),
      },
      // c-2 buys a millisecond after it, and browsed inside it: no conversion, no revenue.
      {
        key: 'c-2',
        value: customerEvent(
          'e-c2-order',
          'c-2',
          'order.placed',
          at(7 * 86_400_000 + 1),
          ORDER('o-2', '75.00'),
        ),
      },
      { key: 'c-2', value: customerEvent('e-c2-view', 'c-2', 'product.viewed', at(60_000), { sku: 's-1' }) },
      // h-1 of the holdout buys inside the window, counted by the same rule.
      {
        key: 'h-1',
        value: customerEvent('e-h1-order', 'h-1', 'order.placed', at(2 * 86_400_000), ORDER('o-9', '40.10')),
      },
    ]);
    await bus.whenIdle();
  }

  async function report(): Promise<Record<string, unknown>> {
    const response = await fetch(`${baseUrl}/v1/analytics/journeys/birthday_sequence`, {
      headers: { authorization: 'Bearer test-key' },
    });
    expect(response.status).toBe(200);
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null) throw new Error('expected an object');
    return { ...body };
  }

  function conversionsPublished(): unknown[] {
    return bus.messagesOn(ConversionsTopic.name).map((m) => m.value);
  }

  function touchCount(): Promise<{ touches: number }[]> {
    const db = app.get<DataSource>(serviceDatabaseToken('analytics'));
    return queryRows<{ touches: number }>(db, `SELECT count(*)::int AS touches FROM analytics.touches`);
  }

  function tokenFor(customerId: string, stepId: string, purpose: 'open' | 'click', url?: string): string {
    return signLinkToken(
      {
        purpose,
        customerId,
        channel: 'email',
        messageId: `msg-${customerId}-${stepId}`,
        ...(url ? { url } : {}),
      },
      LINK_SECRET,
    );
  }

  describe('attribution', () => {
    it('publishes one conversion per converted entry, at the window edges, for treatment and holdout alike', () => {
      expect(conversionsPublished()).toEqual(
        expect.arrayContaining([
          {
            schemaVersion: 1,
            conversionId: 'inst-c-3',
            journeyKey: 'birthday_sequence',
            customerId: 'c-3',
            group: 'treatment',
            goalEvent: 'order.placed',
            eventId: 'e-c3-order',
            enteredAt: ENTERED.toISOString(),
            convertedAt: ENTERED.toISOString(),
            revenue: '50.00',
            currency: 'USD',
          },
          expect.objectContaining({
            conversionId: 'inst-c-1',
            eventId: 'e-c1-order',
            convertedAt: WINDOW_ENDS.toISOString(),
          }),
          expect.objectContaining({ conversionId: 'inst-h-1', group: 'holdout', revenue: '40.10' }),
        ]),
      );
      expect(conversionsPublished()).toHaveLength(3);
    });

    it('publishes nothing again when every topic is redelivered', async () => {
      const before = conversionsPublished().length;
      await bus.publish(JourneyEntriesTopic, [{ key: 'c-1', value: entry('c-1', 'treatment') }]);
      await bus.publish(CustomerEventsTopic, [
        {
          key: 'c-1',
          value: customerEvent(
            'e-c1-order',
            'c-1',
            'order.placed',
            WINDOW_ENDS.toISOString(),
            ORDER('o-1', '100.00'),
          ),
        },
      ]);
      await bus.whenIdle();
      expect(conversionsPublished()).toHaveLength(before);
    });
  });

  describe('GET /v1/analytics/journeys/{key}', () => {
    it('answers entrants, message counts, conversions, lift with its interval and net revenue', async () => {
      const lift = liftOf({ conversions: 2, entered: 4 }, { conversions: 1, entered: 2 });
      expect(await report()).toMatchObject({
        journeyKey: 'birthday_sequence',
        entered: 6,
        holdout: 2,
        // Customers, not sends: the 4 treatment entrants were sent 6 messages over two steps.
        sent: 4,
        messages: expect.objectContaining({ sent: 6, delivered: 1, bounced: 1, suppressed: 1 }),
        delivered: 1,
        bounced: 1,
        suppressed: 1,
        conversions: { treatment: 2, holdout: 1 },
        conversionRate: { treatment: 0.5, holdout: 0.5 },
        lift: 0,
        liftInterval: [lift.interval?.lo, lift.interval?.hi],
        // c-1 100.00 + c-3 50.00 - 20.00 refunded; c-2's order fell outside the window.
        revenue: { treatment: '130.00', holdout: '40.10' },
      });
    });

    it("answers per step and per variant, a later step's variant against the step's other variants", async () => {
      const body = await report();
      const celebrate = {
        sent: 4,
        delivered: 1,
        opened: 0,
        clicked: 0,
        bounced: 1,
        failed: 0,
        suppressed: 0,
      };
      const nudge = { sent: 2, delivered: 0, opened: 0, clicked: 0, bounced: 0, failed: 0, suppressed: 1 };
      expect(body['steps']).toEqual([
        { stepId: 'celebrate', ...celebrate, messages: celebrate },
        { stepId: 'nudge', ...nudge, messages: nudge },
      ]);
      // The follow-up went to those who had not bought by then: each variant is compared with the
      // other among them (1 of 1 against 1 of 1), not with the holdout (1 of 2), which favoured both.
      const a = liftOf({ conversions: 1, entered: 1 }, { conversions: 1, entered: 1 });
      expect(body['variants']).toEqual([
        expect.objectContaining({
          stepId: 'nudge',
          variant: 'followup_a',
          comparedWith: 'other_variants',
          entered: 1,
          sent: 1,
          suppressed: 1,
          conversions: { treatment: 1, holdout: 1 },
          conversionRate: { treatment: 1, holdout: 1 },
          lift: 0,
          liftInterval: [a.interval?.lo, a.interval?.hi],
        }),
        expect.objectContaining({
          stepId: 'nudge',
          variant: 'followup_b',
          comparedWith: 'other_variants',
          entered: 1,
          sent: 1,
          lift: 0,
        }),
      ]);
    });

    it('recovers a seeded 5-point lift (15% of 1,800 against 10% of 200) within its interval', async () => {
      const seeded = (index: number, group: 'treatment' | 'holdout'): JourneyEntryV1 => ({
        ...entry(`s-${index}`, group),
        journeyKey: 'seeded_truth',
      });
      const entries = [
        ...Array.from({ length: 1800 }, (_, i) => seeded(i, 'treatment')),
        ...Array.from({ length: 200 }, (_, i) => seeded(1800 + i, 'holdout')),
      ];
      // Every 20th treatment entrant of each 20 buys thrice (15%), every 10th holdout entrant once (10%).
      const buyers = entries.filter((e, i) => (e.group === 'treatment' ? i % 20 < 3 : i % 10 === 0));
      await bus.publish(
        JourneyEntriesTopic,
        entries.map((value) => ({ key: value.customerId, value })),
      );
      await bus.publish(
        CustomerEventsTopic,
        buyers.map((buyer) => ({
          key: buyer.customerId,
          value: customerEvent(
            `e-${buyer.customerId}`,
            buyer.customerId,
            'order.placed',
            at(86_400_000),
            ORDER(`o-${buyer.customerId}`, '10.00'),
          ),
        })),
      );
      await bus.whenIdle();

      const response = await fetch(`${baseUrl}/v1/analytics/journeys/seeded_truth`, {
        headers: { authorization: 'Bearer test-key' },
      });
      const body: unknown = await response.json();
      const expected = liftOf({ conversions: 270, entered: 1800 }, { conversions: 20, entered: 200 });
      expect(body).toMatchObject({
        entered: 2000,
        holdout: 200,
        conversions: { treatment: 270, holdout: 20 },
        conversionRate: { treatment: 0.15, holdout: 0.1 },
        liftInterval: [expected.interval?.lo, expected.interval?.hi],
        revenue: { treatment: '2700.00', holdout: '200.00' },
      });
      if (typeof body !== 'object' || body === null || !('lift' in body) || !('liftInterval' in body))
        throw new Error('expected a lift');
      const [lo, hi] = Array.isArray(body.liftInterval) ? body.liftInterval.map(Number) : [NaN, NaN];
      expect(body.lift).toBeCloseTo(0.05, 12);
      expect(lo).toBeLessThan(0.05);
      expect(hi).toBeGreaterThan(0.05);
    });

    it('answers zeros and no lift for a journey nobody entered', async () => {
      const response = await fetch(`${baseUrl}/v1/analytics/journeys/nobody`, {
        headers: { authorization: 'Bearer test-key' },
      });
      expect(await response.json()).toMatchObject({
        entered: 0,
        holdout: 0,
        sent: 0,
        conversions: { treatment: 0, holdout: 0 },
        conversionRate: { treatment: null, holdout: null },
        lift: null,
        liftInterval: null,
        revenue: { treatment: '0.00', holdout: '0.00' },
      });
    });
    it('publishes a snapshot of each journey of the program on analytics.journey-metrics.v1', async () => {
      await app.get(PublishJourneyMetricsUseCase).publishNow();
      const snapshots = bus
        .messagesOn(JourneyMetricsTopic.name)
        .map((m) => JourneyMetricsTopic.schema.parse(m.value));
      expect(snapshots).toEqual([
        {
          schemaVersion: 1,
          journeyKey: 'birthday_sequence',
          computedAt: expect.any(String),
          counts: {
            entered: 6,
            holdout: 2,
            sent: 6,
            delivered: 1,
            opened: 0,
            clicked: 0,
            bounced: 1,
            failed: 0,
            suppressed: 1,
            conversionsTreatment: 2,
            conversionsHoldout: 1,
          },
        },
      ]);
      // The sandbox clock ticks on from an hour after sending, however slowly the test runs.
      const computedAt = Date.parse(snapshots[0]?.computedAt ?? '');
      expect(computedAt).toBeGreaterThanOrEqual(AN_HOUR_LATER.getTime());
      expect(computedAt).toBeLessThanOrEqual(clock.now().getTime());
    });
  });

  describe('tracking', () => {
    it('serves the pixel, records the first human open once and publishes it as opened', async () => {
      const token = tokenFor('c-1', 'celebrate', 'open');
      const before = clock.now().getTime();
      for (let i = 0; i < 2; i += 1) {
        const response = await fetch(`${baseUrl}/t/o/${token}`, { headers: { 'user-agent': BROWSER } });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/gif');
        expect(response.headers.get('cache-control')).toBe('no-store, private');
        expect(Buffer.from(await response.arrayBuffer())).toHaveLength(42);
      }
      // A privacy proxy fetches c-3's pixel: recorded and flagged, not an open.
      await fetch(`${baseUrl}/t/o/${tokenFor('c-3', 'celebrate', 'open')}`, {
        headers: { 'user-agent': 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' },
      });
      await bus.whenIdle();

      const body = await report();
      expect(body['opened']).toBe(1);
      expect(body['tracking']).toEqual({ opens: 3, machineOpens: 1, clicks: 0, machineClicks: 0 });
      const opened = bus
        .messagesOn(MessagesEventsTopic.name)
        .map((m) => MessagesEventsTopic.schema.parse(m.value))
        .filter((m) => m.status === 'opened');
      expect(opened).toEqual([
        { ...messageEvent('c-1', 'celebrate', 'opened'), occurredAt: expect.any(String) },
      ]);
      // The sandbox clock keeps ticking (in real time, however slow the machine) from an hour
      // after sending: the open is stamped at the first fetch, within this test's own span.
      const openedAt = Date.parse(opened[0]?.occurredAt ?? '');
      expect(openedAt).toBeGreaterThanOrEqual(before);
      expect(openedAt).toBeLessThanOrEqual(clock.now().getTime());
    });

    it('redirects a click to the signed URL only, and records it', async () => {
      const url = 'https://shop.example/birthday?offer=BDAY20';
      const response = await fetch(`${baseUrl}/t/c/${tokenFor('c-1', 'celebrate', 'click', url)}`, {
        headers: { 'user-agent': BROWSER },
        redirect: 'manual',
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(url);
      await bus.whenIdle();
      const body = await report();
      expect(body['clicked']).toBe(1);
      expect(body['tracking']).toEqual({ opens: 3, machineOpens: 1, clicks: 1, machineClicks: 0 });
    });

    it('rejects tampered, foreign-purpose and unsafe tokens with 400 and records nothing', async () => {
      const before = await touchCount();
      const token = tokenFor('c-1', 'celebrate', 'click', 'https://shop.example/');
      const [body, signature] = token.split('.');
      const forgedBody = Buffer.from(
        JSON.stringify({
          purpose: 'click',
          customerId: 'c-1',
          channel: 'email',
          messageId: 'msg-c-1-celebrate',
          url: 'https://evil.example/',
        }),
      ).toString('base64url');
      const attempts = [
        `/t/c/${forgedBody}.${signature}`,
        `/t/c/${body}.${signature}x`,
        `/t/c/${tokenFor('c-1', 'celebrate', 'open')}`,
        `/t/o/${token}`,
        `/t/c/${tokenFor('c-1', 'celebrate', 'click', 'javascript:alert(1)')}`,
      ];
      for (const path of attempts) {
        const response = await fetch(`${baseUrl}${path}`, { redirect: 'manual' });
        expect({ path, status: response.status, location: response.headers.get('location') }).toEqual({
          path,
          status: 400,
          location: null,
        });
      }
      expect(await touchCount()).toEqual(before);
    });
  });
  describe('the dashboard', () => {
    it('shows the figures and charts the API answers for the seeded journey', async () => {
      const api = await report();
      const { browser, close } = await launchChromium('mmp-dashboard', { width: 1280, height: 1000 });
      try {
        const page = await browser.newPage();
        const requested: string[] = [];
        page.on('request', (request) => requested.push(new URL(request.url()).host));
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(error.message));
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(`${message.text()} ${message.location().url}`);
        });
        const served = await page.goto(`${baseUrl}/dashboard#key=test-key&journey=birthday_sequence`);
        expect({ status: served?.status(), type: served?.headers()['content-type'] }).toEqual({
          status: 200,
          type: 'text/html; charset=utf-8',
        });
        await page
          .waitForSelector('body[data-loaded="birthday_sequence"]', { timeout: 10_000 })
          .catch(() => undefined);
        expect({
          loaded: await page.locator('body').getAttribute('data-loaded'),
          status: await page.locator('#status').textContent(),
          problems: problems.filter((problem) => !problem.includes('/favicon.ico')),
        }).toEqual({ loaded: 'birthday_sequence', status: '', problems: [] });

        const figure = (name: string): Promise<string | null> =>
          page.locator(`[data-figure="${name}"]`).textContent();
        expect({
          entered: await figure('entered'),
          holdout: await figure('holdout'),
          sent: await figure('sent'),
          opened: await figure('opened'),
          clicked: await figure('clicked'),
          treatment: await figure('conversions.treatment'),
          holdoutConversions: await figure('conversions.holdout'),
          lift: await figure('lift'),
          revenue: await figure('revenue.treatment'),
        }).toEqual({
          entered: '6',
          holdout: '2',
          // Customers: the funnel never shows more sent than entered.
          sent: '4',
          opened: String(api['opened']),
          clicked: String(api['clicked']),
          treatment: '2',
          holdoutConversions: '1',
          lift: '0.0 pts',
          revenue: '130.00',
        });
        const seriesOf = (chart: string): Promise<unknown> =>
          page.evaluate(
            `echarts.getInstanceByDom(document.getElementById(${JSON.stringify(chart)})).getOption().series.map((s) => s.data)`,
          );
        // entered (treatment) -> sent -> opened -> clicked -> converted, all in customers: the 4
        // entrants were sent 6 messages, and the funnel no longer shows more sent than entered.
        expect(await seriesOf('funnel')).toEqual([[4, 4, api['opened'], api['clicked'], 2]]);
        expect(await seriesOf('variants')).toEqual([
          [1, 1],
          [0, 0],
          [0, 0],
        ]);
        const interval = api['liftInterval'];
        if (!Array.isArray(interval)) throw new Error('expected a lift interval');
        const [lo, hi] = interval.map((x) => Number(x) * 100);
        expect(await seriesOf('lift')).toEqual([
          [[lo, lo, 0, hi, hi], expect.any(Array), expect.any(Array)],
          // The follow-up variants against each other (both converted their one recipient), not the holdout.
          [0, 0, 0],
        ]);
        // Everything came from the platform itself: no CDN.
        expect([...new Set(requested)]).toEqual([new URL(baseUrl).host]);

        mkdirSync(join(__dirname, '../artifacts'), { recursive: true });
        await page.screenshot({
          path: join(__dirname, '../artifacts/analytics-dashboard.png'),
          fullPage: true,
        });
      } finally {
        await close();
      }
    });
  });
});
