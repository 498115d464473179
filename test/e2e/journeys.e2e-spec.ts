import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryBus } from '@mmp/bus';
import { sandboxOutbox } from '@mmp/channel-sandbox';
import { AppConfig } from '@mmp/config';
import {
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  type MessageRequestedV1,
  type MilestoneReachedV1,
} from '@mmp/contracts';
import { chooseVariant } from '@mmp/journeys-domain';
import type { INestApplication } from '@nestjs/common';
import { eventually, useTestDatabase } from '../support';
import { api } from './order-events';
import { startPlatformForTest } from './platform';

/**
 * Journeys on the sandbox clock, all six services in one process (SANDBOX=true, in-process bus,
 * real Postgres). Milestones are published on milestones.reached.v1 as the milestones service
 * would; purchases and other events come in over POST /v1/events. Each test has its own
 * customers and its own stretch of time: the clock only moves forward.
 */

const PROGRAM = `
policies:
  timezone: America/New_York
  consent: { email: opt-out, sms: opt-out, push: opt-in }
  quietHours: { start: '21:00', end: '08:00', channels: [sms] }
  frequencyCaps:
    - { channel: any, max: 1, per: 1d }
milestones:
  - { key: playbook_day, kind: nth_event, event: test.playbook, n: 1 }
  - { key: measured_moment, kind: nth_event, event: test.measured, n: 1 }
  - { key: high_moment, kind: nth_event, event: test.high, n: 1 }
  - { key: low_moment, kind: nth_event, event: test.low, n: 1 }
  - { key: double_moment, kind: nth_event, event: test.double, n: 1 }
  - { key: night_moment, kind: nth_event, event: test.night, n: 1 }
journeys:
  - key: playbook
    trigger: playbook_day
    priority: 1
    goal: { event: order.placed, withinDays: 7 }
    exitOn: [support.ticket_opened]
    offer: { code: BDAY20 }
    steps:
      - { id: celebrate, send: { template: celebrate_email } }
      - { id: pause, wait: { days: 2 } }
      - { id: check, branch: { if: { eventSinceEntry: order.placed }, then: exit } }
      - id: nudge
        send: { variants: [{ template: followup_a, weight: 50 }, { template: followup_b, weight: 50 }] }
  - key: measured
    trigger: measured_moment
    holdoutPercent: 100
    goal: { event: order.placed, withinDays: 7 }
    steps:
      - { id: celebrate, send: { template: celebrate_email } }
  - key: high
    trigger: high_moment
    priority: 10
    steps:
      - { id: hello, send: { template: high_email } }
  - key: low
    trigger: low_moment
    priority: 5
    steps:
      - { id: hello, send: { template: low_email } }
  - key: double
    trigger: double_moment
    steps:
      - { id: first, send: { template: first_email } }
      - { id: second, send: { template: second_email } }
      - { id: pause, wait: { days: 1 } }
      - { id: third, send: { template: third_email } }
  - key: night
    trigger: night_moment
    steps:
      - { id: text, send: { template: night_sms } }
templates:
  celebrate_email: { channel: email, subject: 'Happy day, {{customer.firstName}}!', text: 'Enjoy {{offer.code}}' }
  followup_a: { channel: email, subject: 'Still waiting, {{customer.firstName}}', text: 'Use {{offer.code}}' }
  followup_b: { channel: email, subject: 'Last days, {{customer.firstName}}', text: 'Use {{offer.code}} soon' }
  high_email: { channel: email, subject: 'High', text: 'high' }
  low_email: { channel: email, subject: 'Low', text: 'low' }
  first_email: { channel: email, subject: 'First', text: 'first' }
  second_email: { channel: email, subject: 'Second', text: 'second' }
  third_email: { channel: email, subject: 'Third', text: 'third' }
  night_sms: { channel: sms, body: 'Good morning {{customer.firstName}}' }
`;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** What PUT /v1/program answers: the new versions, or the error. */
interface ProgramAnswer {
  version: string;
  journeys: { key: string; version: string }[];
  error: {
    code: string;
    message: string;
    details: { path: string; message: string; line?: number; column?: number }[];
  };
}

interface MessageRow {
  messageId: string;
  journeyKey: string;
  stepId: string;
  template: string;
  status: string;
  reason: string | null;
}

describe('journeys on the sandbox clock, in one process', () => {
  let app: INestApplication | undefined;
  let bus: InMemoryBus;
  let baseUrl: string;
  let programDir: string;
  // Declared before the database, so the platform stops before its database is dropped.
  afterAll(async () => {
    await app?.close();
    rmSync(programDir, { recursive: true, force: true });
  });
  const database = useTestDatabase();

  beforeAll(async () => {
    programDir = mkdtempSync(join(tmpdir(), 'journeys-e2e-'));
    writeFileSync(join(programDir, 'program.yaml'), PROGRAM);
    bus = new InMemoryBus();
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      PROGRAM_DIR: programDir,
      SANDBOX: 'true',
      LOG_LEVEL: 'warn',
    });
    ({ app, baseUrl } = await startPlatformForTest(config, bus));
  });

  async function moveClock(to: Date): Promise<void> {
    const moved = await api(baseUrl, '/v1/sandbox/clock', {
      method: 'POST',
      body: { now: to.toISOString() },
    });
    expect(moved.status).toBe(200);
  }

  async function reach(customerId: string, milestoneKeys: readonly string[], at: Date): Promise<void> {
    await bus.publish(
      MilestonesReachedTopic,
      milestoneKeys.map((milestoneKey) => ({
        key: customerId,
        value: reached(customerId, milestoneKey, at),
      })),
    );
    await bus.whenIdle();
  }

  async function postEvent(
    customerId: string,
    type: string,
    at: Date,
    properties: object = {},
  ): Promise<void> {
    const posted = await api(baseUrl, '/v1/events', {
      method: 'POST',
      body: {
        eventId: `${customerId}-${type}-${at.getTime()}`,
        type,
        occurredAt: at.toISOString(),
        customerId,
        properties,
      },
    });
    expect(posted.body).toMatchObject({ accepted: 1 });
    await bus.whenIdle();
  }

  function requestedFor(customerId: string): MessageRequestedV1[] {
    return bus
      .messagesOn(MessagesRequestedTopic.name)
      .filter((m) => m.key === customerId)
      .map((m) => MessagesRequestedTopic.schema.parse(m.value));
  }

  async function messagesOf(customerId: string): Promise<MessageRow[]> {
    const res = await api(baseUrl, `/v1/customers/${customerId}/messages`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function journeysOf(customerId: string) {
    const res = await api(baseUrl, `/v1/customers/${customerId}/journeys`);
    expect(res.status).toBe(200);
    return res.body;
  }

  const t1 = new Date('2030-06-03T14:00:00Z'); // Monday 10:00 in New York (EDT)

  it('runs the retailer playbook: celebrates, waits two days, follows up once when they did not buy', async () => {
    const customerId = 'c-play-1';
    await moveClock(t1);
    await reach(customerId, ['playbook_day'], t1);
    await eventually(() => expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1));
    expect(sandboxOutbox.forCustomer(customerId)[0]).toMatchObject({
      subject: 'Happy day, Ann!',
      text: 'Enjoy BDAY20',
    });
    const [waiting] = await journeysOf(customerId);
    // The sandbox clock keeps ticking after a move: entry is a few milliseconds after t1.
    expect(Date.parse(waiting.enteredAt) - t1.getTime()).toBeLessThan(5_000);
    expect(waiting).toMatchObject({
      journeyKey: 'playbook',
      group: 'treatment',
      status: 'waiting',
      currentStep: 'pause',
      waitingFor: 'wait',
      waitingUntil: later(waiting.enteredAt, 2 * DAY),
      exitReason: null,
      goal: {
        event: 'order.placed',
        windowEndsAt: later(waiting.enteredAt, 7 * DAY),
        reachedAt: null,
        outcome: 'pending',
      },
    });

    await moveClock(new Date(t1.getTime() + 2 * DAY + 60_000));
    await eventually(() => expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(2));
    const variant = chooseVariant(customerId, 'playbook', 'nudge', [
      { template: 'followup_a', weight: 50 },
      { template: 'followup_b', weight: 50 },
    ]).template;
    await bus.whenIdle();
    const messages = await messagesOf(customerId);
    expect(messages.map((m) => [m.stepId, m.template, m.status])).toEqual([
      ['nudge', variant, 'sent'],
      ['celebrate', 'celebrate_email', 'sent'],
    ]);
    expect((await journeysOf(customerId))[0]).toMatchObject({
      status: 'completed',
      currentStep: null,
      waitingUntil: null,
      exitReason: null,
    });
    expect(requestedFor(customerId).map((m) => m.stepId)).toEqual(['celebrate', 'nudge']);
  });

  const t2 = new Date(t1.getTime() + 3 * DAY);

  it('exits at the branch when the customer bought during the wait, and records the goal', async () => {
    const customerId = 'c-play-2';
    await moveClock(t2);
    await reach(customerId, ['playbook_day'], t2);
    const orderAt = new Date(t2.getTime() + 5 * HOUR);
    await moveClock(orderAt);
    await postEvent(customerId, 'order.placed', orderAt, { orderId: 'o-1', total: '20.00', currency: 'USD' });
    // A purchase is not an exitOn event of this journey: the branch decides when the wait ends.
    expect((await journeysOf(customerId))[0]).toMatchObject({ status: 'waiting', currentStep: 'pause' });

    await moveClock(new Date(t2.getTime() + 2 * DAY + 60_000));
    await eventually(async () =>
      expect((await journeysOf(customerId))[0]).toMatchObject({
        status: 'exited',
        exitReason: 'branch:check',
        goal: { reachedAt: orderAt.toISOString(), outcome: 'reached' },
      }),
    );
    await bus.whenIdle();
    expect(requestedFor(customerId).map((m) => m.stepId)).toEqual(['celebrate']);
    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
  });

  it('records the goal of a holdout that receives nothing', async () => {
    const customerId = 'c-held';
    const at = new Date(t2.getTime() + 2 * DAY + 2 * HOUR);
    await moveClock(at);
    await reach(customerId, ['measured_moment'], at);
    const orderAt = new Date(at.getTime() + 6 * DAY);
    await moveClock(orderAt);
    await postEvent(customerId, 'order.placed', orderAt, { orderId: 'o-1', total: '20.00', currency: 'USD' });
    const journeys = await journeysOf(customerId);
    expect(journeys).toEqual([
      expect.objectContaining({
        journeyKey: 'measured',
        group: 'holdout',
        status: 'completed',
        exitReason: 'holdout',
        goal: {
          event: 'order.placed',
          windowEndsAt: later(journeys[0].enteredAt, 7 * DAY),
          reachedAt: orderAt.toISOString(),
          outcome: 'reached',
        },
      }),
    ]);
    expect(requestedFor(customerId)).toEqual([]);
  });

  const t3 = new Date('2030-06-15T14:00:00Z');

  it('ends an instance at once on an exitOn event mid-wait and sends nothing more', async () => {
    const customerId = 'c-play-3';
    await moveClock(t3);
    await reach(customerId, ['playbook_day'], t3);
    const ticketAt = new Date(t3.getTime() + HOUR);
    await moveClock(ticketAt);
    await postEvent(customerId, 'support.ticket_opened', ticketAt, { ticketId: 't-1' });
    expect((await journeysOf(customerId))[0]).toMatchObject({
      status: 'exited',
      exitReason: 'exit_on:support.ticket_opened',
      currentStep: null,
      waitingUntil: null,
    });
    await moveClock(new Date(t3.getTime() + 2 * DAY + 60_000));
    await bus.whenIdle();
    expect(requestedFor(customerId).map((m) => m.stepId)).toEqual(['celebrate']);
  });

  const t4 = new Date('2030-06-18T14:00:00Z');

  it('suppresses a send over the frequency cap and carries on with the journey', async () => {
    const customerId = 'c-cap';
    await moveClock(t4);
    await reach(customerId, ['double_moment'], t4);
    const byStep = async () =>
      (await messagesOf(customerId))
        .map((m) => [m.stepId, m.status, m.reason])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    await eventually(async () =>
      expect(await byStep()).toEqual([
        ['first', 'sent', null],
        ['second', 'suppressed', 'frequency_cap'],
      ]),
    );
    expect((await journeysOf(customerId))[0]).toMatchObject({ status: 'waiting', currentStep: 'pause' });

    // A day later the rolling window has room again.
    await moveClock(new Date(t4.getTime() + DAY + 60_000));
    await eventually(async () =>
      expect(await byStep()).toEqual([
        ['first', 'sent', null],
        ['second', 'suppressed', 'frequency_cap'],
        ['third', 'sent', null],
      ]),
    );
    expect(sandboxOutbox.forCustomer(customerId).map((m) => m.subject)).toEqual(['First', 'Third']);
  });

  it('defers an SMS in quiet hours to the end of the window, durably, and sends it once', async () => {
    const customerId = 'c-quiet';
    const night = new Date('2030-06-20T02:00:00Z'); // 22:00 on the 19th in New York
    await moveClock(night);
    await reach(customerId, ['night_moment'], night);
    expect(requestedFor(customerId)).toEqual([]);
    expect((await journeysOf(customerId))[0]).toMatchObject({
      status: 'waiting',
      currentStep: 'text',
      waitingFor: 'quiet_hours',
      waitingUntil: '2030-06-20T12:00:00.000Z',
    });

    await moveClock(new Date('2030-06-20T11:59:00Z'));
    await bus.whenIdle();
    expect(requestedFor(customerId)).toEqual([]);

    await moveClock(new Date('2030-06-20T12:00:30Z'));
    await eventually(() => expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1));
    expect(sandboxOutbox.forCustomer(customerId)[0]).toMatchObject({
      to: '+14155550100',
      body: 'Good morning Ann',
    });
    await bus.whenIdle();
    expect(requestedFor(customerId).map((m) => [m.stepId, m.requestedAt])).toEqual([
      ['text', expect.stringMatching(/^2030-06-20T12:00:3/)],
    ]);
    expect((await journeysOf(customerId))[0]).toMatchObject({ status: 'completed', waitingFor: null });
  });

  describe('same-day collisions between journeys', () => {
    const day = new Date('2030-06-21T13:00:00Z'); // 09:00 in New York

    async function collide(customerId: string, order: readonly string[][], start: Date) {
      let at = start;
      for (const keys of order) {
        await moveClock(at);
        await reach(customerId, keys, at);
        at = new Date(at.getTime() + HOUR);
      }
      await bus.whenIdle();
      const messages = await messagesOf(customerId);
      return messages
        .map((m) => [m.journeyKey, m.status, m.reason])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    }

    it('still sends the higher priority when the lower one went out first that day, whatever the cap', async () => {
      expect(await collide('c-prio-low-first', [['low_moment'], ['high_moment']], day)).toEqual([
        ['high', 'sent', null],
        ['low', 'sent', null],
      ]);
    });

    it('suppresses the lower priority arriving after the higher one the same local day', async () => {
      const start = new Date(day.getTime() + 2 * HOUR);
      expect(await collide('c-prio-high-first', [['high_moment'], ['low_moment']], start)).toEqual([
        ['high', 'sent', null],
        ['low', 'suppressed', 'priority'],
      ]);
    });

    it('decides one batch as the same milestones one by one, in arrival order', async () => {
      // Lower listed first: it goes out, and the higher one still does (as in separate batches).
      const start = new Date(day.getTime() + 4 * HOUR);
      expect(await collide('c-prio-batch', [['low_moment', 'high_moment']], start)).toEqual([
        ['high', 'sent', null],
        ['low', 'sent', null],
      ]);
      const later = new Date(start.getTime() + 30 * 60_000);
      expect(await collide('c-prio-batch-high', [['high_moment', 'low_moment']], later)).toEqual([
        ['high', 'sent', null],
        ['low', 'suppressed', 'priority'],
      ]);
    });

    it('compares local days, not 24 hours: after midnight a lower priority meets only the cap', async () => {
      // 23:00 and then 00:30 in New York: an hour and a half apart, but two local days.
      const late = new Date('2030-06-23T03:00:00Z');
      expect(await collide('c-prio-midnight', [['high_moment']], late)).toEqual([['high', 'sent', null]]);
      const afterMidnight = new Date(late.getTime() + 90 * 60_000);
      expect(await collide('c-prio-midnight', [['low_moment']], afterMidnight)).toEqual([
        ['high', 'sent', null],
        ['low', 'suppressed', 'frequency_cap'],
      ]);
    });
  });

  describe('the program API', () => {
    const changed = PROGRAM.replace('{ id: pause, wait: { days: 2 } }', '{ id: pause, wait: { days: 5 } }')
      .replace(
        'send: { variants: [{ template: followup_a, weight: 50 }, { template: followup_b, weight: 50 }] }',
        'send: { template: followup_v2 }',
      )
      .concat("  followup_v2: { channel: email, subject: 'Version two', text: 'v2' }\n");

    async function putProgram(body: string, contentType = 'application/yaml') {
      const response = await fetch(`${baseUrl}/v1/program`, {
        method: 'PUT',
        headers: { authorization: 'Bearer test-key', 'content-type': contentType },
        body,
      });
      return { status: response.status, body: (await response.json()) as ProgramAnswer };
    }

    it('serves the program in force as JSON and as YAML, with its version', async () => {
      const json = await fetch(`${baseUrl}/v1/program`, { headers: { authorization: 'Bearer test-key' } });
      expect(json.status).toBe(200);
      const program = (await json.json()) as { journeys: { key: string }[] };
      expect(program.journeys.map((j: { key: string }) => j.key)).toEqual([
        'playbook',
        'measured',
        'high',
        'low',
        'double',
        'night',
      ]);
      expect(json.headers.get('etag')).toMatch(/^"[0-9a-f]{12}"$/);
      const yaml = await fetch(`${baseUrl}/v1/program`, {
        headers: { authorization: 'Bearer test-key', accept: 'application/yaml' },
      });
      expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
      expect(yaml.headers.get('etag')).toBe(json.headers.get('etag'));
      expect(await yaml.text()).toContain('start: "21:00"');
    });

    it('refuses a bad program with 400 naming the path and line, and keeps the old one', async () => {
      const before = await fetch(`${baseUrl}/v1/program`, { headers: { authorization: 'Bearer test-key' } });
      const bad = PROGRAM.replace('trigger: high_moment', 'trigger: hihg_moment');
      const line = bad.split('\n').findIndex((l) => l.includes('hihg_moment')) + 1;
      const answer = await putProgram(bad);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.details).toEqual([
        {
          path: 'journeys[2].trigger',
          message: `must name a milestone: no milestone has the key "hihg_moment" (did you mean "high_moment"?) (request body:${line}:14)`,
          line,
          column: 14,
        },
      ]);
      const jsonAnswer = await putProgram(JSON.stringify({ journeys: [{ key: 'x' }] }), 'application/json');
      expect(jsonAnswer.status).toBe(400);
      expect(jsonAnswer.body.error.details).toContainEqual({
        path: 'journeys[0].trigger',
        message: 'is required',
      });
      const after = await fetch(`${baseUrl}/v1/program`, { headers: { authorization: 'Bearer test-key' } });
      expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    });

    it('lets customers in flight finish on the version they entered while new entrants get the new one', async () => {
      const entered = new Date('2030-07-01T14:00:00Z');
      await moveClock(entered);
      await reach('c-flight', ['playbook_day'], entered);
      const [inFlight] = await journeysOf('c-flight');

      const replaced = await putProgram(changed);
      expect(replaced.status).toBe(200);
      const newVersion = replaced.body.journeys.find((j) => j.key === 'playbook')?.version;
      expect(newVersion).toMatch(/^[0-9a-f]{12}$/);
      expect(newVersion).not.toBe(inFlight.journeyVersion);
      const served = await fetch(`${baseUrl}/v1/program`, { headers: { authorization: 'Bearer test-key' } });
      expect(served.headers.get('etag')).toBe(`"${replaced.body.version}"`);

      const newcomerAt = new Date(entered.getTime() + HOUR);
      await moveClock(newcomerAt);
      await reach('c-new', ['playbook_day'], newcomerAt);
      const [newcomer] = await journeysOf('c-new');
      expect(newcomer).toMatchObject({
        journeyVersion: newVersion,
        waitingUntil: later(newcomer.enteredAt, 5 * DAY),
      });
      expect((await journeysOf('c-flight'))[0]).toMatchObject({
        journeyVersion: inFlight.journeyVersion,
        waitingUntil: later(inFlight.enteredAt, 2 * DAY),
      });

      await moveClock(new Date(entered.getTime() + 2 * DAY + 60_000));
      await eventually(() =>
        expect(requestedFor('c-flight').map((m) => m.stepId)).toEqual(['celebrate', 'nudge']),
      );
      expect(requestedFor('c-flight')[1]?.template).toMatch(/^followup_[ab]$/);
      expect(requestedFor('c-new').map((m) => m.stepId)).toEqual(['celebrate']);

      await moveClock(new Date(newcomerAt.getTime() + 5 * DAY + 60_000));
      await eventually(() =>
        expect(requestedFor('c-new').map((m) => [m.stepId, m.template])).toEqual([
          ['celebrate', 'celebrate_email'],
          ['nudge', 'followup_v2'],
        ]),
      );
      await bus.whenIdle();
      expect(requestedFor('c-flight')).toHaveLength(2);
    });
  });
});

/** An ISO instant `ms` after another: waits and goal windows here cross no daylight-saving change. */
function later(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

function reached(customerId: string, milestoneKey: string, at: Date): MilestoneReachedV1 {
  return {
    schemaVersion: 1,
    occurrenceId: `occ-${milestoneKey}-${customerId}-${at.getTime()}`,
    milestoneKey,
    customerId,
    occurrence: '1',
    reachedAt: at.toISOString(),
    context: {},
    causeEventId: null,
    profile: {
      customerId,
      traits: {
        email: `${customerId}@example.com`,
        phone: '+14155550100',
        firstName: 'Ann',
        timezone: 'America/New_York',
      },
      attributes: {
        lifetimeOrders: 1,
        lifetimeValue: '20.00',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: null,
        eventCounts: {},
      },
    },
  };
}
