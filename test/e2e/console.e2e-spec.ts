import { InMemoryBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { ALL_SERVICES } from '@mmp/platform-services';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import type { Locator, Page, Request } from 'playwright-core';
import { ConsoleStaticModule } from '../../apps/platform/src/console-static.module';
import { eventually, useTestDatabase } from '../support';
import { launchChromium } from './browser';
import { api, orderPathEvents } from './order-events';

const ARTIFACTS = join(__dirname, '../artifacts/console');
const AXE = require.resolve('axe-core/axe.min.js');

/**
 * The operator console in a real browser against the whole platform in one process (as `npm
 * start` serves it, at `/`), with customers who went down the order path: sign in, find a
 * customer and read their timeline, a journey map's counts against the API, a program edit with
 * a mistake marked at its line, then a valid change applied. Every page is screenshotted
 * (test/artifacts/console) and checked with axe-core for serious accessibility problems.
 */
describe('console in the browser', () => {
  let app: INestApplication | undefined;
  let baseUrl = '';
  // Where the messages' links and open pixels point: a loopback server that counts what reaches it.
  let links: Server | undefined;
  const linkRequests: string[] = [];
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => (links ? links.close(resolve) : resolve(undefined)));
  });
  const database = useTestDatabase();
  let page: Page;
  let close: () => Promise<void> = async () => undefined;
  const problems: string[] = [];
  const requested: Request[] = [];
  const serverErrors: string[] = [];

  beforeAll(async () => {
    // The same build `npm start` makes when the console's sources changed.
    execFileSync(process.execPath, [join(__dirname, '../../apps/console/build-if-stale.mjs')], {
      stdio: 'inherit',
    });
    links = createServer((request, response) => {
      linkRequests.push(request.url ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => links?.listen(0, '127.0.0.1', resolve));
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      PUBLIC_URL: `http://127.0.0.1:${(links.address() as AddressInfo).port}`,
      API_KEYS: 'test-key',
      PROGRAM_DIR: 'program',
      LOG_LEVEL: 'warn',
    });
    app = await startServices({
      name: 'platform',
      services: [...ALL_SERVICES, ConsoleStaticModule],
      config,
      bus: new InMemoryBus(),
      program: new ProgramStore(loadProgramFromDir(config.programDir)),
    });
    baseUrl = await loopbackUrlOf(app);
    const now = new Date();
    const batch = [...orderPathEvents('c-ann', now), ...orderPathEvents('c-anna', now)];
    expect((await api(baseUrl, '/v1/events', { method: 'POST', body: { batch } })).status).toBe(202);
    await eventually(async () => {
      const log = await api(baseUrl, '/v1/messages?journey=second_order_thanks');
      expect(log.body.items.map((m: { status: string }) => m.status)).toEqual(['sent', 'sent']);
    });
    const launched = await launchChromium('mmp-console');
    close = launched.close;
    page = await launched.browser.newPage();
    page.on('request', (request) => requested.push(request));
    // Server errors with their bodies, so a failure names its cause.
    page.on('response', (response) => {
      if (response.status() >= 500)
        void response
          .text()
          .then((text) => serverErrors.push(`${response.status()} ${response.url()} ${text}`));
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${message.text()} ${message.location().url}`);
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await close();
  });

  /** Serious and critical axe-core findings on the page as it is now (none expected). */
  async function seriousViolations(): Promise<string[]> {
    // Once per document: the console changes pages by hash, so the first injection stays (and a
    // later one would race the preview iframe's own loading).
    if (!(await page.evaluate<boolean>("typeof axe !== 'undefined'"))) await page.addScriptTag({ path: AXE });
    const found = await page.evaluate<AxeResults['violations']>(
      'axe.run(document).then((results) => results.violations)',
    );
    return found
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** An API answer, asked again while the service is unavailable (503: the shared Postgres is full). */
  async function answered(path: string) {
    let response = await api(baseUrl, path);
    await eventually(async () => {
      if (response.status === 503) response = await api(baseUrl, path);
      expect(response.status).toBe(200);
    });
    return response.body;
  }

  /** The program in force as YAML, asked again while the service is unavailable. */
  async function programYaml(): Promise<string> {
    return eventually(async () => {
      const response = await fetch(`${baseUrl}/v1/program`, {
        headers: { authorization: 'Bearer test-key', accept: 'application/yaml' },
      });
      expect(response.status).toBe(200);
      return response.text();
    });
  }

  /** Waits for a locator; on a timeout the error shows what the page shows instead. */
  async function visible(locator: Locator): Promise<void> {
    try {
      await locator.waitFor();
    } catch (error) {
      const shown = await page
        .locator('main')
        .innerText()
        .catch(() => '(no main)');
      throw new Error(
        `${String(error)}\npage ${page.url()} shows:\n${shown}\nserver errors: ${serverErrors.join('\n')}`,
      );
    }
  }

  async function screenshot(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  it('signs in with an API key; a wrong key is told, and no development key is offered while API_KEYS is set', async () => {
    const served = await page.goto(`${baseUrl}/`);
    expect(served?.status()).toBe(200);
    await visible(page.getByLabel('API key'));
    expect(await page.getByLabel('API key').inputValue()).toBe('');
    expect(await seriousViolations()).toEqual([]);
    await screenshot('sign-in');
    // What `npm start` without API_KEYS announces (ConsoleStaticModule's spec): the key is filled in.
    const firstRun = await page.context().newPage();
    await firstRun.route('**/console-config.json', (route) =>
      route.fulfill({ json: { developmentApiKey: 'test-key' } }),
    );
    await firstRun.goto(`${baseUrl}/`);
    await firstRun.getByText('the development key').waitFor();
    expect(await firstRun.getByLabel('API key').inputValue()).toBe('test-key');
    await firstRun.close();
    // Back to the foreground: a background tab gets no animation frames, which the map's fit waits for.
    await page.bringToFront();

    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('alert'));
    expect(await page.getByRole('alert').textContent()).toContain('unauthorized');
    await page.getByLabel('API key').fill('test-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('heading', { name: 'Customers' }));
    expect(await page.evaluate(() => sessionStorage.getItem('mmp.console.apiKey'))).toBe('test-key');
  });

  it('finds a customer by email and reads their timeline from every service', async () => {
    await page.getByLabel('Customer id, email or phone').fill('C-ANNA@');
    await page.getByRole('button', { name: 'Search' }).click();
    // The list showed every customer before the search: wait for the search's own answer.
    await page.waitForFunction(
      "location.hash.includes('query=') && document.querySelectorAll('main tbody tr').length === 1",
    );
    expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual(['c-anna']);
    expect(await seriousViolations()).toEqual([]);
    await screenshot('customers');
    await page.getByRole('link', { name: 'c-anna' }).click();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await visible(timeline);
    const lines = await timeline.locator('li strong').allTextContents();
    expect(lines).toEqual(
      expect.arrayContaining([
        'email second_order_email sent',
        'entered second_order_thanks',
        'reached second_order',
        'order.placed',
        'customer.registered',
      ]),
    );
    // Newest first: the message comes after the second order that caused it.
    expect(lines.indexOf('email second_order_email sent')).toBeLessThan(
      lines.indexOf('reached second_order'),
    );
    expect(lines.filter((line) => line === 'order.placed')).toHaveLength(2);
    expect(await page.locator('.facts').first().textContent()).toContain('c-anna@example.com');
    expect(await seriousViolations()).toEqual([]);
    await screenshot('customer');
  });

  it("draws a journey as a flow whose step counts are the API's, and lists a step's messages", async () => {
    const counts = await answered('/v1/journeys/second_order_thanks/steps');
    const thank = counts.steps.find((s: { stepId: string }) => s.stepId === 'thank');
    await page.goto(`${baseUrl}/#/journeys/second_order_thanks`);
    const node = page.locator('[data-step="thank"]');
    await visible(node);
    expect({
      entered: await node.locator('[data-count="entered"]').textContent(),
      sent: await node.locator('[data-count="requested"]').textContent(),
    }).toEqual({
      entered: String(thank.entered.treatment + thank.entered.holdout),
      sent: String(thank.requested),
    });
    expect(thank.entered.treatment).toBe(2);
    await node.click();
    const messages = page.getByRole('table', { name: 'Messages' });
    await visible(messages);
    expect((await messages.locator('tbody tr').allTextContents()).length).toBe(2);
    expect(await seriousViolations()).toEqual([]);
    await screenshot('journey-second-order');
    await page.goto(`${baseUrl}/#/journeys/birthday_sequence`);
    await visible(page.locator('[data-step="nudge"]'));
    // Fitted to its box once measured: every node inside the map.
    await page.waitForFunction(
      `(() => {
      const box = document.querySelector('.flow').getBoundingClientRect();
      return [...document.querySelectorAll('.react-flow__node')].every((node) => {
        const r = node.getBoundingClientRect();
        return r.top >= box.top && r.bottom <= box.bottom && r.left >= box.left && r.right <= box.right;
      });
    })()`,
      undefined,
      { polling: 100 },
    );
    // Both arms of the branch: the exit when the customer ordered, and on to the nudge.
    expect(await page.locator('.react-flow__edge').count()).toBe(6);
    await screenshot('journey-birthday');
  });

  it('shows the message log, a message with its status history and content, and a template preview', async () => {
    await page.goto(`${baseUrl}/#/messages?customerId=c-ann`);
    const log = page.getByRole('table', { name: 'Messages' });
    await visible(log.locator('tbody tr').first());
    expect(await log.locator('tbody tr').count()).toBe(1);
    await screenshot('messages');
    expect(await seriousViolations()).toEqual([]);
    await log.locator('tbody a').first().click();
    const history = page.getByRole('table', { name: 'Status history' });
    await visible(history.locator('tbody tr').first());
    expect(await history.locator('tbody td:nth-child(2)').allTextContents()).toContain('sent');
    expect(await page.locator('[data-rendered="subject"]').textContent()).toBe(
      'Thanks for your second order, Ann!',
    );
    await screenshot('message');
    await page.goto(`${baseUrl}/#/templates/birthday_email?customer=c-ann`);
    await page.getByRole('button', { name: 'Preview' }).click();
    await visible(page.locator('[data-rendered="subject"]'));
    expect(await page.locator('[data-rendered="subject"]').textContent()).toBe('Happy birthday, Ann!');
    expect(await page.locator('iframe[data-rendered="html"]').getAttribute('sandbox')).toBe('');
    // Looking at a preview is not an open: the preview's policy keeps its tracking pixel unloaded.
    // The pixel is there to be blocked...
    const preview = page.frameLocator('iframe[data-rendered="html"]');
    expect(await preview.locator('img[src*="/t/o/"]').count()).toBe(1);
    // ...and Chromium either never asks for it or announces the request and fails it with 'csp'
    // (about one load in three here); any other ending means it left the browser.
    const unblockedPixels: string[] = [];
    for (const request of requested.filter((each) => each.url().includes('/t/o/'))) {
      await request.response();
      if (request.failure()?.errorText !== 'csp') unblockedPixels.push(request.url());
    }
    expect(unblockedPixels).toEqual([]);
    expect(linkRequests.filter((url) => url.startsWith('/t/o/'))).toEqual([]);
    expect(await seriousViolations()).toEqual([]);
    await screenshot('templates');
  });

  it('marks a program mistake at its line, then shows the diff and applies a valid change', async () => {
    const program = await programYaml();
    await page.goto(`${baseUrl}/#/program`);
    const editor = page.locator('.cm-content');
    await visible(editor);
    const lines = program.split('\n');
    const waitLine = lines.findIndex((line) => /days: 2\b/.test(line));
    expect(waitLine).toBeGreaterThan(-1);
    const replaceAll = async (text: string) => {
      await editor.click();
      await page.keyboard.press('Control+a');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(text);
    };
    await replaceAll(program.replace(/days: 2\b/, 'days: -2'));
    await page.getByRole('button', { name: 'Validate' }).click();
    const problem = page.getByRole('list', { name: 'Problems' }).locator('li').first();
    await visible(problem);
    expect(await problem.getAttribute('data-line')).toBe(String(waitLine + 1));
    expect(await page.locator('.cm-lintRange-error').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(true);
    expect(await seriousViolations()).toEqual([]);
    await screenshot('program-error');

    await replaceAll(program.replace(/days: 2\b/, 'days: 3'));
    await page.getByRole('button', { name: 'Validate' }).click();
    const diff = page.getByLabel('Diff');
    await visible(diff);
    expect(await diff.locator('.added').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/days: 3/)]),
    );
    const plan = page.getByRole('table', { name: 'Journeys after applying' });
    expect(
      await plan.locator('tr', { hasText: 'birthday_sequence' }).locator('td').nth(1).textContent(),
    ).toBe('changed');
    await screenshot('program-diff');
    await page.getByRole('button', { name: 'Apply' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Applied' }));
    const applied = await programYaml();
    expect(applied).toMatch(/days: 3\b/);
    expect(applied).not.toMatch(/days: 2\b/);
  });

  it('shows analytics with the dashboard folded in', async () => {
    await page.goto(`${baseUrl}/#/analytics/second_order_thanks`);
    await visible(page.locator('.figures'));
    const frame = page.frameLocator('iframe.dashboard-frame');
    await visible(frame.locator('[data-figure="entered"]').filter({ hasText: '2' }));
    expect(await seriousViolations()).toEqual([]);
    await screenshot('analytics');
    // Expected lines: the wrong key's 401, and the preview policy reporting the pixel it blocked.
    const blockedPixel = (problem: string) =>
      problem.includes('/t/o/') && problem.includes('Content Security Policy');
    // A read answered 503 (unavailable, retriable) is asked again by the console; the browser
    // still logs the first answer, and what the server said is kept in serverErrors.
    const retriedRead = (problem: string) => problem.includes('status of 503');
    expect({
      problems: problems.filter(
        (problem) =>
          !problem.includes('favicon') &&
          !problem.includes('401') &&
          !blockedPixel(problem) &&
          !retriedRead(problem),
      ),
      serverErrors: serverErrors.filter((error) => !error.startsWith('503 ')),
    }).toEqual({ problems: [], serverErrors: [] });
    if (serverErrors.length > 0) console.warn(`reads retried after 503:\n${serverErrors.join('\n')}`);
  });
});
