import {
  describeChannelConformance,
  sendJson,
  startHttpFake,
  type ConformanceFake,
} from '@mmp/channel-testing';
import type { ChannelPlugin } from '@mmp/channel-sdk';
import { AppConfig } from '@mmp/config';
import { AppError } from '@mmp/errors';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { load } from './channel-registry';

/**
 * A channel team's plugin, shaped as the npm package they would publish: plain CommonJS, its
 * own package.json, loaded by package name through Node's resolution from a project folder
 * where it is installed, and held to the same conformance kit as ours.
 */
const project = join(__dirname, '../../../../../tmp', `acme-project-${process.pid}`);
const packageDir = join(project, 'node_modules/@acme/whatsapp-plugin');
mkdirSync(packageDir, { recursive: true });
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'acme-project', private: true }));
writeFileSync(
  join(packageDir, 'package.json'),
  JSON.stringify({ name: '@acme/whatsapp-plugin', version: '1.0.0', main: 'index.js' }),
);
writeFileSync(
  join(packageDir, 'index.js'),
  `'use strict';
const { z } = require('zod');
class AcmeError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
const plugin = {
  name: '@acme/whatsapp-plugin',
  channel: 'sms',
  idempotency: 'provider',
  settingsSchema: z.object({ from: z.string().min(1), acmeApiBase: z.string().default('https://api.acme.example') }),
  create(settings) {
    return {
      async send(message) {
        const res = await fetch(settings.acmeApiBase + '/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': message.messageId },
          body: JSON.stringify({ to: message.to, from: settings.from, text: message.body }),
        });
        const json = await res.json();
        if (!res.ok) throw new AcmeError(res.status, json.error);
        return { providerMessageId: json.id };
      },
      classifyError(error) {
        const status = error instanceof AcmeError ? error.status : undefined;
        if (status === 429 || (status !== undefined && status >= 500)) return { kind: 'retryable', reason: 'acme_' + status };
        return { kind: 'permanent', reason: 'acme_' + (status === undefined ? 'error' : status) };
      },
    };
  },
};
module.exports = { plugin };
`,
);
writeFileSync(join(project, 'node_modules/not-a-plugin.js'), 'module.exports = { hello: 1 };');
afterAll(() => rmSync(project, { recursive: true, force: true }));

const requireFromProject = createRequire(join(project, 'package.json'));
const acme = (
  requireFromProject('@acme/whatsapp-plugin') as {
    plugin: ChannelPlugin<{ from: string; acmeApiBase: string }>;
  }
).plugin;

describeChannelConformance({
  plugin: acme,
  invalidSettings: [{}, { from: '' }],
  async startFake(): Promise<ConformanceFake> {
    const received: { text: string }[] = [];
    const failures: number[] = [];
    let next = 0;
    const server = await startHttpFake((request, res) => {
      const failure = failures.shift();
      if (failure !== undefined) return sendJson(res, failure, { error: 'no' });
      received.push({
        text: JSON.stringify({
          idempotencyKey: request.headers['idempotency-key'],
          body: JSON.parse(request.body),
        }),
      });
      sendJson(res, 200, { id: `acme-${++next}` });
    });
    return {
      settings: { from: '+14155550199', acmeApiBase: server.url },
      received: async () => received,
      failNext: (kind) => failures.push(kind === 'retryable' ? 503 : 400),
      stop: () => server.close(),
    };
  },
});

describe('loading a channel plugin by npm package name', () => {
  const config = (env: Record<string, string>) =>
    AppConfig.fromEnvironment({ SMS_FROM: '+14155550199', ...env });

  it('loads an installed package and validates its settings', () => {
    const loaded = load(
      'sms',
      config({ SMS_PROVIDER: '@acme/whatsapp-plugin', SMS_RATE_LIMIT: '5/10' }),
      requireFromProject,
    );
    expect(loaded.provider).toBe('@acme/whatsapp-plugin');
    expect(loaded.rateLimit).toEqual({ perSecond: 5, burst: 10 });
    expect(typeof loaded.sender.send).toBe('function');
  });

  it('names the setting when the package is missing, not a plugin, or for another channel', () => {
    const failure = (env: Record<string, string>, channel: 'email' | 'sms' = 'sms') => {
      try {
        load(channel, config(env), requireFromProject);
      } catch (error) {
        return error;
      }
      throw new Error('loaded');
    };
    expect(failure({ SMS_PROVIDER: '@acme/nothing-here' })).toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(
        /^SMS_PROVIDER=@acme\/nothing-here: no such channel plugin \(built in: sandbox, ses, twilio, fcm/,
      ),
    });
    expect(failure({ SMS_PROVIDER: 'not-a-plugin.js' })).toMatchObject({
      message: expect.stringContaining('does not export a channel plugin'),
    });
    expect(failure({ EMAIL_PROVIDER: '@acme/whatsapp-plugin' }, 'email')).toMatchObject({
      message: 'EMAIL_PROVIDER=@acme/whatsapp-plugin is a sms plugin, not a email one',
    });
    expect(failure({ SMS_PROVIDER: '@acme/whatsapp-plugin', SMS_RATE_LIMIT: 'fast' })).toBeInstanceOf(
      AppError,
    );
  });

  it('refuses built-in plugins with bad settings at start-up, naming the variable', () => {
    expect(() => load('sms', config({ SMS_PROVIDER: 'twilio' }))).toThrow(/SMS_PROVIDER\.twilioAccountSid/);
    expect(() => load('push', config({ PUSH_PROVIDER: 'fcm', FCM_PROJECT_ID: 'mmp-test' }))).toThrow(
      /GOOGLE_APPLICATION_CREDENTIALS/,
    );
  });
});
