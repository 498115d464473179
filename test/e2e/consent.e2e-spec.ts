import { InMemoryBus } from '@mmp/bus';
import { sandboxOutbox } from '@mmp/channel-sandbox';
import { AppConfig } from '@mmp/config';
import {
  ConsentChangesTopic,
  MessagesEventsTopic,
  MessagesRequestedTopic,
  type MessageEventV1,
  type MessageRequestedV1,
} from '@mmp/contracts';
import { ConsentViewStore, ErasureStore, MessageLedgerStore } from '@mmp/delivery-service';
import { signLinkToken } from '@mmp/links';
import type { INestApplication } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { chromium } from 'playwright-core';
import { eventually, useTestDatabase } from '../support';
import { api, orderPathEvents } from './order-events';
import { startPlatformForTest } from './platform';

/**
 * Consent on the whole platform in one process (real Postgres, in-process bus, sandbox
 * channels, the shipped program: email opt-out, sms opt-in): the unsubscribe link of a real
 * email in headless Chromium and as RFC 8058 one-click, every bad token, SMS keywords through
 * the signed Twilio webhook, the suppression list from bounces and complaints, and opt-outs
 * that overtake messages already queued.
 */
const PUBLIC_URL = 'https://messages.shop.example';
const LINK_SECRET = 'consent-e2e-link-secret-0123456789';
const TWILIO_AUTH_TOKEN = 'consent-e2e-twilio-token';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface HistoryEntry {
  changeId: string;
  channel: string;
  status: string;
  source: string;
  actor: string | null;
  address: string | null;
  ip: string | null;
  userAgent: string | null;
  messageId: string | null;
  changedAt: string;
}

describe('consent, unsubscribe, keywords and the suppression list', () => {
  const database = useTestDatabase();
  let app: INestApplication;
  let bus: InMemoryBus;
  let baseUrl: string;
  let db: Client;

  beforeAll(async () => {
    bus = new InMemoryBus();
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      PROGRAM_DIR: 'program',
      LOG_LEVEL: 'error',
      PUBLIC_URL,
      LINK_SECRET,
      TWILIO_AUTH_TOKEN,
    });
    ({ app, baseUrl } = await startPlatformForTest(config, bus));
    db = await database.connect();
  });

  afterAll(async () => {
    await app?.close();
  });

  /** The platform answers on a loopback port; links carry PUBLIC_URL. Same path, local origin. */
  const local = (publicLink: string) => publicLink.replace(PUBLIC_URL, baseUrl);
  const consentOf = async (customerId: string) =>
    (await api(baseUrl, `/v1/customers/${customerId}/consent`)).body;
  const channelOf = async (customerId: string, channel: string) =>
    (await consentOf(customerId)).channels.find((c: { channel: string }) => c.channel === channel);
  const historyOf = async (customerId: string): Promise<HistoryEntry[]> =>
    (await api(baseUrl, `/v1/customers/${customerId}/consent/history`)).body;
  const publishedChangesOf = (customerId: string) =>
    bus
      .messagesOn(ConsentChangesTopic.name)
      .map((m) => m.value as { customerId: string; channel: string; status: string; address?: string | null })
      .filter((c) => c.customerId === customerId);
  const messagesOf = async (customerId: string) =>
    (await api(baseUrl, `/v1/customers/${customerId}/messages`)).body as {
      messageId: string;
      channel: string;
      status: string;
      reason: string | null;
    }[];

  let sequence = 0;
  function messageRequest(
    customerId: string,
    channel: 'email' | 'sms',
    traits: Record<string, unknown>,
  ): MessageRequestedV1 {
    sequence += 1;
    return {
      schemaVersion: 1,
      messageId: `msg_consent_${channel}_${sequence}`,
      customerId,
      journeyKey: 'consent_check',
      journeyVersion: 'v1',
      instanceId: `i-consent-${sequence}`,
      stepId: 'send',
      milestoneKey: 'second_order',
      occurrenceId: `o-consent-${sequence}`,
      template: channel === 'email' ? 'second_order_email' : 'birthday_sms',
      channel,
      variant: null,
      requestedAt: new Date().toISOString(),
      milestone: { key: 'second_order', occurrence: '2' },
      offer: null,
      customer: {
        customerId,
        traits: { firstName: 'Ann', ...traits },
        attributes: {
          lifetimeOrders: 2,
          lifetimeValue: '170.00',
          currency: 'USD',
          firstOrderAt: null,
          lastOrderAt: null,
          registeredAt: null,
          eventCounts: {},
        },
      },
    };
  }

  async function requestMessages(requests: MessageRequestedV1[]): Promise<void> {
    await bus.publish(
      MessagesRequestedTopic,
      requests.map((r) => ({ key: r.customerId, value: r })),
    );
    await bus.whenIdle();
  }

  async function registerCustomer(customerId: string, traits: Record<string, unknown>): Promise<void> {
    const posted = await api(baseUrl, '/v1/events', {
      method: 'POST',
      body: {
        eventId: `${customerId}-reg`,
        type: 'customer.registered',
        occurredAt: new Date().toISOString(),
        customerId,
        traits,
      },
    });
    expect(posted.status).toBe(202);
    await bus.whenIdle();
  }

  /** The List-Unsubscribe link of the second-order email the shipped program sends this customer. */
  async function unsubscribeLinkOfARealEmail(
    customerId: string,
  ): Promise<{ link: string; messageId: string }> {
    await api(baseUrl, '/v1/events', { method: 'POST', body: { batch: orderPathEvents(customerId) } });
    const sent = await eventually(() => {
      const mails = sandboxOutbox.forCustomer(customerId);
      expect(mails).toHaveLength(1);
      return mails[0]!;
    });
    expect(sent.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const header = sent.headers['List-Unsubscribe']!;
    expect(header).toMatch(/^<https:\/\/messages\.shop\.example\/u\/[\w-]+\.[\w-]+>$/);
    return { link: header.slice(1, -1), messageId: sent.messageId };
  }

  describe('the unsubscribe link', () => {
    it('shows a confirm page in a browser, and the button opts the customer out of email at once', async () => {
      const customerId = 'c-unsub-browser';
      const { link, messageId } = await unsubscribeLinkOfARealEmail(customerId);
      expect(await channelOf(customerId, 'email')).toMatchObject({
        model: 'opt-out',
        status: 'not_set',
        allowed: true,
      });

      const userDataDir = await mkdtemp(join(tmpdir(), 'consent-chromium-'));
      const browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await browser.newPage();
        const requestsElsewhere: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(baseUrl)) requestsElsewhere.push(r.url());
        });
        const opened = await page.goto(local(link));
        expect(opened?.status()).toBe(200);
        expect(await page.locator('h1').textContent()).toBe('Unsubscribe?');
        // Opening the page (as a mail scanner would) changes nothing.
        expect(await historyOf(customerId)).toEqual([]);

        await page.click('#confirm');
        await page.waitForSelector('#done');
        expect(await page.locator('#done').textContent()).toBe('You are unsubscribed');
        expect(requestsElsewhere).toEqual([]);
      } finally {
        await browser.close();
        await rm(userDataDir, { recursive: true, force: true });
      }

      expect(await channelOf(customerId, 'email')).toMatchObject({
        status: 'opted_out',
        source: 'unsubscribe_page',
        allowed: false,
      });
      const history = await historyOf(customerId);
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({
        channel: 'email',
        status: 'opted_out',
        source: 'unsubscribe_page',
        actor: 'customer',
        address: null,
        messageId,
      });
      expect(history[0]!.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(history[0]!.userAgent).toContain('HeadlessChrome');
      expect(publishedChangesOf(customerId)).toEqual([
        expect.objectContaining({ channel: 'email', status: 'opted_out' }),
      ]);
      // The published change carries no IP or user agent: only the proof of consent keeps them.
      expect(publishedChangesOf(customerId)[0]).not.toHaveProperty('ip');

      // Delivery follows: the next email to this customer is suppressed for consent.
      const next = messageRequest(customerId, 'email', { email: `${customerId}@example.com` });
      await requestMessages([next]);
      expect((await messagesOf(customerId)).find((m) => m.messageId === next.messageId)).toMatchObject({
        status: 'suppressed',
        reason: 'consent',
      });
      expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    }, 60_000);

    it('opts out on an RFC 8058 one-click POST, with no cookie or key, and a second POST changes nothing', async () => {
      const customerId = 'c-unsub-one-click';
      const { link } = await unsubscribeLinkOfARealEmail(customerId);
      const oneClick = () =>
        fetch(local(link), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailClient/1.0' },
          body: 'List-Unsubscribe=One-Click',
        });
      const first = await oneClick();
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ channel: 'email', status: 'opted_out' });
      expect(await channelOf(customerId, 'email')).toMatchObject({
        status: 'opted_out',
        source: 'list_unsubscribe_one_click',
      });

      const second = await oneClick();
      expect(second.status).toBe(200);
      const history = await historyOf(customerId);
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ source: 'list_unsubscribe_one_click', userAgent: 'MailClient/1.0' });
      expect(publishedChangesOf(customerId)).toHaveLength(1);
    }, 30_000);

    it('answers 400 to every token that is not a valid unsubscribe token, and changes nothing', async () => {
      const customerId = 'c-unsub-bad-tokens';
      const valid = signLinkToken(
        { purpose: 'unsubscribe', customerId, channel: 'email', messageId: 'msg_x' },
        LINK_SECRET,
      );
      const [body, signature] = valid.split('.') as [string, string];
      const forgedBody = Buffer.from(
        JSON.stringify({
          purpose: 'unsubscribe',
          customerId: 'c-someone-else',
          channel: 'email',
          messageId: 'msg_x',
        }),
      ).toString('base64url');
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      const bad: Record<string, string> = {
        'payload altered': `${forgedBody}.${signature}`,
        'signature altered': `${body}.${flipped}`,
        'signed under another secret': signLinkToken(
          { purpose: 'unsubscribe', customerId, channel: 'email', messageId: 'msg_x' },
          'some-other-secret-entirely',
        ),
        'no signature': body,
        'an extra part': `${valid}.x`,
        'not base64 JSON': `bm90LWpzb24.${createHmac('sha256', LINK_SECRET).update('bm90LWpzb24').digest('base64url')}`,
        expired: signLinkToken(
          {
            purpose: 'unsubscribe',
            customerId,
            channel: 'email',
            messageId: 'msg_x',
            exp: Date.now() / 1000 - 60,
          },
          LINK_SECRET,
        ),
        'a click token': signLinkToken(
          {
            purpose: 'click',
            customerId,
            channel: 'email',
            messageId: 'msg_x',
            url: 'https://shop.example/',
          },
          LINK_SECRET,
        ),
        'an unknown channel': signLinkToken(
          { purpose: 'unsubscribe', customerId, channel: 'fax', messageId: 'msg_x' },
          LINK_SECRET,
        ),
      };
      for (const [what, token] of Object.entries(bad)) {
        const posted = await fetch(`${baseUrl}/u/${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect({ what, status: posted.status }).toEqual({ what, status: 400 });
        expect(((await posted.json()) as { error: { code: string } }).error.code).toBe('bad_request');
        const shown = await fetch(`${baseUrl}/u/${token}`);
        expect({ what, status: shown.status }).toEqual({ what, status: 400 });
        expect(await shown.text()).toContain('This link is not valid');
      }
      for (const id of [customerId, 'c-someone-else']) {
        expect(await historyOf(id)).toEqual([]);
        expect(publishedChangesOf(id)).toEqual([]);
      }
      // The valid one still works: the failures above were the tokens, not the route.
      expect((await fetch(`${baseUrl}/u/${valid}`, { method: 'POST' })).status).toBe(200);
      expect(await channelOf(customerId, 'email')).toMatchObject({ status: 'opted_out' });
    }, 30_000);
  });

  describe('SMS keywords on the Twilio inbound webhook', () => {
    const inboundUrl = `${PUBLIC_URL}/v1/webhooks/twilio/inbound`;
    const sign = (fields: Record<string, string>, token = TWILIO_AUTH_TOKEN) =>
      createHmac('sha1', token)
        .update(
          Object.keys(fields)
            .sort()
            .reduce((acc, key) => acc + key + fields[key], inboundUrl),
        )
        .digest('base64');
    let sid = 0;
    async function inbound(from: string, body: string, signature?: string) {
      sid += 1;
      const fields = {
        MessageSid: `SM${String(sid).padStart(32, '0')}`,
        From: from,
        To: '+14155550199',
        Body: body,
      };
      const response = await fetch(`${baseUrl}/v1/webhooks/twilio/inbound`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature ?? sign(fields),
        },
        body: new URLSearchParams(fields).toString(),
      });
      await bus.whenIdle();
      return { status: response.status, text: await response.text() };
    }

    it('opts out on every stop keyword and back in on every start keyword, in any case and spacing', async () => {
      const customerId = 'c-sms-keywords';
      const phone = '+14155550142';
      await registerCustomer(customerId, { phone, email: `${customerId}@example.com` });
      const words: [string, string][] = [
        [' stop ', 'opted_out'],
        ['START', 'opted_in'],
        ['StopAll', 'opted_out'],
        ['unstop', 'opted_in'],
        ['UNSUBSCRIBE', 'opted_out'],
        ['yes', 'opted_in'],
        ['cancel', 'opted_out'],
        ['Yes', 'opted_in'],
        ['END', 'opted_out'],
        ['start', 'opted_in'],
        ['quit\n', 'opted_out'],
        ['START', 'opted_in'],
        ['revoke', 'opted_out'],
        ['START', 'opted_in'],
        ['OptOut', 'opted_out'],
      ];
      for (const [word, status] of words) {
        const answer = await inbound(phone, word);
        expect(answer).toEqual({
          status: 200,
          text: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        });
        expect({ word, status: (await channelOf(customerId, 'sms')).status }).toEqual({ word, status });
      }
      const history = await historyOf(customerId);
      expect(history).toHaveLength(words.length);
      expect(history.every((h) => h.channel === 'sms' && h.actor === 'customer')).toBe(true);
      expect(history[0]!.source).toBe('sms_keyword:OPTOUT');
      // Email is untouched.
      expect(await channelOf(customerId, 'email')).toMatchObject({ status: 'not_set' });
    }, 30_000);

    it('changes nothing for an ordinary reply, a repeated keyword, or an unknown number', async () => {
      const customerId = 'c-sms-ordinary';
      const phone = '+14155550143';
      await registerCustomer(customerId, { phone });
      expect((await inbound(phone, 'please stop sending me birthday cakes')).status).toBe(200);
      expect((await inbound('+14155550999', 'STOP')).status).toBe(200);
      expect(await historyOf(customerId)).toEqual([]);
      await inbound(phone, 'STOP');
      await inbound(phone, 'stop');
      expect(await historyOf(customerId)).toHaveLength(1);
    }, 30_000);

    it('opts out every customer whose profile carries the number', async () => {
      const phone = '+14155550144';
      await registerCustomer('c-sms-shared-1', { phone });
      await registerCustomer('c-sms-shared-2', { phone });
      await inbound(phone, 'STOP');
      for (const id of ['c-sms-shared-1', 'c-sms-shared-2'])
        expect(await channelOf(id, 'sms')).toMatchObject({ status: 'opted_out', source: 'sms_keyword:STOP' });
    }, 30_000);

    it('rejects a request whose signature does not match, and changes nothing', async () => {
      const customerId = 'c-sms-forged';
      const phone = '+14155550145';
      await registerCustomer(customerId, { phone });
      const fields = { MessageSid: 'SMforged', From: phone, To: '+14155550199', Body: 'START' };
      expect((await inbound(phone, 'STOP', sign(fields, 'the-wrong-token'))).status).toBe(401);
      expect((await inbound(phone, 'STOP', 'bm90LWEtc2lnbmF0dXJl')).status).toBe(401);
      const unsigned = await fetch(`${baseUrl}/v1/webhooks/twilio/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
      expect(unsigned.status).toBe(401);
      expect(await historyOf(customerId)).toEqual([]);
    }, 30_000);
  });

  describe('the suppression list', () => {
    function messageEvent(
      customerId: string,
      status: string,
      reason: string | null,
      address?: string,
    ): MessageEventV1 {
      sequence += 1;
      return {
        schemaVersion: 1,
        messageId: `msg_receipt_${sequence}`,
        customerId,
        journeyKey: 'second_order_thanks',
        stepId: 'thank',
        milestoneKey: 'second_order',
        channel: 'email',
        template: 'second_order_email',
        variant: null,
        status: status as MessageEventV1['status'],
        reason,
        occurredAt: new Date().toISOString(),
        ...(address === undefined ? {} : { address }),
      };
    }
    async function receipts(events: MessageEventV1[]) {
      await bus.publish(
        MessagesEventsTopic,
        events.map((e) => ({ key: e.customerId, value: e })),
      );
      await bus.whenIdle();
    }

    it('suppresses the address of a permanent bounce, and only that address', async () => {
      const customerId = 'c-bounce-permanent';
      const bounce = messageEvent(
        customerId,
        'bounced',
        'permanent_bounce:General',
        'Ann.Bounce@Example.com',
      );
      await receipts([bounce, bounce]);
      const consent = await consentOf(customerId);
      expect(consent.suppressedAddresses).toEqual([
        {
          channel: 'email',
          address: 'ann.bounce@example.com',
          source: 'permanent_bounce:General',
          since: bounce.occurredAt,
        },
      ]);
      // Channel consent is untouched: a new, working address still gets email.
      expect(consent.channels.find((c: { channel: string }) => c.channel === 'email')).toMatchObject({
        status: 'not_set',
      });
      expect(await historyOf(customerId)).toHaveLength(1);

      await api(baseUrl, `/v1/customers/${customerId}/consent/sms`, {
        method: 'PUT',
        body: { status: 'opted_in', source: 'checkout' },
      });
      await bus.whenIdle();
      const before = sandboxOutbox.forCustomer(customerId).length;
      const toBounced = messageRequest(customerId, 'email', {
        email: 'ann.bounce@example.com',
        phone: '+14155550146',
      });
      const toSms = messageRequest(customerId, 'sms', {
        email: 'ann.bounce@example.com',
        phone: '+14155550146',
      });
      const toNewAddress = messageRequest(customerId, 'email', { email: 'ann.new@example.com' });
      await requestMessages([toBounced, toSms, toNewAddress]);
      const messages = await messagesOf(customerId);
      const statusOf = (id: string) => {
        const m = messages.find((x) => x.messageId === id)!;
        return `${m.status}${m.reason ? `/${m.reason}` : ''}`;
      };
      expect(statusOf(toBounced.messageId)).toBe('suppressed/suppression_list');
      expect(statusOf(toSms.messageId)).toBe('sent');
      expect(statusOf(toNewAddress.messageId)).toBe('sent');
      expect(sandboxOutbox.forCustomer(customerId).map((m) => m.to)).toEqual(
        expect.not.arrayContaining(['ann.bounce@example.com']),
      );
      expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(before + 2);
    }, 30_000);

    it('suppresses the address consent knows when the bounce names none, and nothing on a transient bounce', async () => {
      const known = 'c-bounce-known';
      await registerCustomer(known, { email: 'known@example.com' });
      await receipts([messageEvent(known, 'bounced', 'permanent_bounce:NoEmail')]);
      expect((await consentOf(known)).suppressedAddresses).toMatchObject([{ address: 'known@example.com' }]);

      const transient = 'c-bounce-transient';
      await receipts([
        messageEvent(transient, 'bounced', 'transient_bounce:MailboxFull', 'full@example.com'),
      ]);
      expect((await consentOf(transient)).suppressedAddresses).toEqual([]);
      expect(await historyOf(transient)).toEqual([]);
    }, 30_000);

    it('opts the customer out of email on a complaint, once however often it arrives', async () => {
      const customerId = 'c-complaint';
      const complaint = messageEvent(customerId, 'delivered', 'complaint');
      await receipts([complaint, complaint]);
      await receipts([complaint]);
      expect(await channelOf(customerId, 'email')).toMatchObject({
        status: 'opted_out',
        source: 'complaint',
      });
      expect(await historyOf(customerId)).toEqual([
        expect.objectContaining({
          channel: 'email',
          status: 'opted_out',
          source: 'complaint',
          actor: 'provider',
          messageId: complaint.messageId,
        }),
      ]);
      expect(await channelOf(customerId, 'sms')).toMatchObject({ status: 'not_set' });
    }, 30_000);
  });

  describe('erasure', () => {
    it('leaves the erased email and phone in no table of any schema, and consent keeps its aggregates', async () => {
      const customerId = 'c-erase-me';
      const email = `${customerId}@example.com`;
      const phone = '+14155550177';
      await registerCustomer(customerId, { email, phone, firstName: 'Ann' });
      const { link } = await unsubscribeLinkOfARealEmail(customerId);
      // Personal data in every place consent and delivery keep some: a one-click unsubscribe
      // (IP, user agent), an SMS keyword (phone index), a bounce (suppression list), message bodies.
      await fetch(local(link), { method: 'POST', body: 'List-Unsubscribe=One-Click' });
      await api(baseUrl, `/v1/customers/${customerId}/consent/sms`, {
        method: 'PUT',
        body: { status: 'opted_in', source: 'checkout' },
      });
      await bus.whenIdle();
      await requestMessages([messageRequest(customerId, 'sms', { phone })]);
      await bus.publish(MessagesEventsTopic, [
        {
          key: customerId,
          value: {
            schemaVersion: 1,
            messageId: 'msg_erase_bounce',
            customerId,
            journeyKey: 'second_order_thanks',
            stepId: 'thank',
            milestoneKey: 'second_order',
            channel: 'email',
            template: 'second_order_email',
            variant: null,
            status: 'bounced',
            reason: 'permanent_bounce:General',
            occurredAt: new Date().toISOString(),
            address: email,
          },
        },
      ]);
      await bus.whenIdle();
      const tablesHolding = async () => {
        const { rows: tables } = await db.query<{ name: string }>(
          `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
            WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1`,
        );
        const holding: string[] = [];
        for (const { name } of tables) {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${name} x WHERE x::text ILIKE $1 OR x::text ILIKE $2`,
            [`%${email}%`, `%${phone.slice(1)}%`],
          );
          if (rows[0]!.n > 0) holding.push(name);
        }
        return holding;
      };
      expect(await tablesHolding()).toEqual(
        expect.arrayContaining([
          'consent.contacts',
          'delivery.messages',
          'ingestion.profiles',
          'journeys.instances',
        ]),
      );

      const erased = await fetch(`${baseUrl}/v1/customers/${customerId}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer test-key' },
      });
      expect(erased.status).toBe(202);
      await bus.whenIdle();
      expect(await tablesHolding()).toEqual([]);

      // Consent keeps what happened, not who or where from.
      const history = await historyOf(customerId);
      expect(history.map((h) => `${h.channel}/${h.status}/${h.source}`)).toEqual([
        'sms/opted_in/checkout',
        'email/opted_out/list_unsubscribe_one_click',
      ]);
      expect(history.every((h) => h.ip === null && h.userAgent === null && h.address === null)).toBe(true);
      // A message still in flight for the erased customer stores nothing of them again.
      const late = messageRequest(customerId, 'sms', { phone });
      await requestMessages([late]);
      expect((await messagesOf(customerId)).find((m) => m.messageId === late.messageId)).toMatchObject({
        status: 'suppressed',
        reason: 'customer_erased',
      });
      expect(await tablesHolding()).toEqual([]);
    }, 60_000);
  });

  describe('an opt-out that overtakes queued messages', () => {
    it('is honoured by every queued message not yet handed to a provider', async () => {
      const customerId = 'c-race-retries';
      const email = `${customerId}@example.com`;
      // The provider throttles: all three messages wait in delivery's queue for their retry.
      for (let i = 0; i < 3; i++) sandboxOutbox.failNext('retryable');
      const queued = [0, 1, 2].map(() => messageRequest(customerId, 'email', { email }));
      await requestMessages(queued);
      expect((await messagesOf(customerId)).map((m) => m.status)).toEqual(['queued', 'queued', 'queued']);

      const put = await api(baseUrl, `/v1/customers/${customerId}/consent/email`, {
        method: 'PUT',
        body: { status: 'opted_out', source: 'preference_centre', actor: 'agent-7' },
      });
      expect(put.status).toBe(200);
      await bus.whenIdle();

      // The retry loop runs every second on the platform clock: every message ends suppressed.
      const outcomes = await eventually(
        async () => {
          const messages = await messagesOf(customerId);
          expect(messages.map((m) => `${m.status}/${m.reason}`)).toEqual([
            'suppressed/consent',
            'suppressed/consent',
            'suppressed/consent',
          ]);
          return messages;
        },
        { timeoutMs: 15_000 },
      );
      expect(outcomes).toHaveLength(3);
      expect(sandboxOutbox.forCustomer(customerId)).toEqual([]);
      const events = bus
        .messagesOn(MessagesEventsTopic.name)
        .map((m) => m.value as MessageEventV1)
        .filter((e) => e.customerId === customerId && e.status === 'suppressed');
      expect(events.map((e) => e.reason)).toEqual(['consent', 'consent', 'consent']);
      expect((await historyOf(customerId))[0]).toMatchObject({
        source: 'preference_centre',
        actor: 'agent-7',
      });
    }, 30_000);

    it('withholds, at the handover, messages decided before consent changed, and hands over the rest', async () => {
      const store = app.get(MessageLedgerStore);
      const consentView = app.get(ConsentViewStore);
      const erasure = app.get(ErasureStore);
      const now = new Date();
      const message = (messageId: string, customerId: string) => ({
        messageId,
        customerId,
        journeyKey: 'consent_check',
        stepId: 'send',
        milestoneKey: 'second_order',
        channel: 'email' as const,
        template: 'second_order_email',
        variant: null,
      });
      const messages = [
        message('msg_handover_opted_out', 'c-handover-opted-out'),
        message('msg_handover_suppressed', 'c-handover-suppressed'),
        message('msg_handover_erased', 'c-handover-erased'),
        message('msg_handover_erased_racing', 'c-handover-erased-racing'),
        message('msg_handover_fine', 'c-handover-fine'),
      ];
      const claimed = await store.transaction((tx) => store.claim(tx, messages, [], now));
      expect(claimed.sendable.size).toBe(5);
      // Between the decisions and the provider calls, consent changes reach delivery's view.
      await consentView.applyConsentChanges([
        { customerId: 'c-handover-opted-out', channel: 'email', status: 'opted_out', changedAt: now },
        {
          customerId: 'c-handover-suppressed',
          channel: 'email',
          status: 'opted_out',
          changedAt: now,
          address: 'bounced@example.com',
        },
      ]);
      // An erasure fails the customer's queued messages at once; one that committed while this
      // batch was being claimed (so it could not see the new rows) is caught at the handover.
      await erasure.eraseCustomers(['c-handover-erased'], now);
      await db.query(`INSERT INTO delivery.erased_customers VALUES ('c-handover-erased-racing', now())`);
      const gate = await store.handOver(
        [
          { messageId: 'msg_handover_opted_out', recipient: 'opted.out@example.com' },
          { messageId: 'msg_handover_suppressed', recipient: 'bounced@example.com' },
          { messageId: 'msg_handover_erased', recipient: 'erased@example.com' },
          { messageId: 'msg_handover_erased_racing', recipient: 'racing@example.com' },
          { messageId: 'msg_handover_fine', recipient: 'fine@example.com' },
        ],
        now,
      );
      expect([...gate.handedOver]).toEqual(['msg_handover_fine']);
      expect(Object.fromEntries(gate.withheld)).toEqual({
        msg_handover_opted_out: 'consent',
        msg_handover_suppressed: 'suppression_list',
        msg_handover_erased_racing: 'customer_erased',
      });
      const { rows } = await db.query(
        `SELECT message_id, status, reason, handed_over_at IS NOT NULL AS handed_over FROM delivery.messages
          WHERE message_id LIKE 'msg_handover_%' ORDER BY message_id`,
      );
      expect(rows).toEqual([
        {
          message_id: 'msg_handover_erased',
          status: 'failed',
          reason: 'customer_erased',
          handed_over: false,
        },
        { message_id: 'msg_handover_erased_racing', status: 'queued', reason: null, handed_over: false },
        { message_id: 'msg_handover_fine', status: 'queued', reason: null, handed_over: true },
        { message_id: 'msg_handover_opted_out', status: 'queued', reason: null, handed_over: false },
        { message_id: 'msg_handover_suppressed', status: 'queued', reason: null, handed_over: false },
      ]);
    });
  });
});
