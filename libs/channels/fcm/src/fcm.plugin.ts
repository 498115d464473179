import { defineChannelPlugin, type ErrorClassification } from '@mmp/channel-sdk';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent } from 'node:https';
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { applicationDefault, cert, deleteApp, initializeApp, type Credential } from 'firebase-admin/app';
import { getMessaging, type MulticastMessage } from 'firebase-admin/messaging';
import { z } from 'zod';

/** Settings, as delivery passes them from FCM_PROJECT_ID, GOOGLE_APPLICATION_CREDENTIALS and FCM_ENDPOINT. */
export const FcmSettings = z
  .object({
    fcmProjectId: z.string().regex(/^[a-z][a-z0-9-]{4,29}$/, 'FCM_PROJECT_ID must be a Firebase project id'),
    googleApplicationCredentials: z.string().min(1).optional(),
    /** `http://host:port`: connections go there instead of fcm.googleapis.com (a proxy, the test fake). */
    fcmEndpoint: z.url({ error: 'FCM_ENDPOINT must be a URL such as http://127.0.0.1:9099' }).optional(),
  })
  .refine((s) => s.fcmEndpoint !== undefined || s.googleApplicationCredentials !== undefined, {
    error: 'GOOGLE_APPLICATION_CREDENTIALS must name a service-account file (or FCM_ENDPOINT a fake)',
    path: ['googleApplicationCredentials'],
  });
export type FcmSettings = z.infer<typeof FcmSettings>;

/** FCM accepts at most 500 tokens per multicast. */
export const FCM_MULTICAST_LIMIT = 500;

/** Error codes that mean the token is gone for good: the app was uninstalled or the token is bad. */
const INVALID_TOKEN_CODES = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
]);
const RETRYABLE_CODES = new Set([
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/server-unavailable',
  'messaging/internal-error',
  'messaging/unknown-error',
]);

/** When FCM answers QUOTA_EXCEEDED without Retry-After, wait at least this (FCM's guidance: 60 s). */
const DEFAULT_QUOTA_DELAY_MS = 60_000;

/** Thrown when no token took the message; carries what FCM said for each token. */
export class FcmSendError extends Error {
  override readonly name = 'FcmSendError';
  constructor(
    readonly code: string,
    message: string,
    readonly invalidTokens: readonly string[],
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** The loopback agent of tests and proxies: TLS is skipped and every connection goes to `endpoint`. */
class EndpointAgent extends Agent {
  constructor(private readonly endpoint: URL) {
    super({ keepAlive: true });
  }

  override createConnection(): Socket {
    return connect(Number(this.endpoint.port || 80), this.endpoint.hostname);
  }
}

/** A credential that never leaves the machine, for FCM_ENDPOINT without a service account. */
const loopbackCredential: Credential = {
  getAccessToken: async () => ({ access_token: 'loopback-token', expires_in: 3600 }),
};

/**
 * Push through Firebase Cloud Messaging (HTTP v1), one multicast per message, up to 500
 * tokens. Tokens FCM reports unregistered come back as `invalidAddresses`, so delivery stops
 * using them. The legacy HTTP/1.1 transport is enabled, so sends go through our agent.
 */
export const fcmPlugin = defineChannelPlugin({
  name: 'fcm',
  channel: 'push',
  settingsSchema: FcmSettings,
  idempotency: 'carried',
  defaultRateLimit: { perSecond: 100, burst: 100 },
  create(settings) {
    const agent = settings.fcmEndpoint
      ? new EndpointAgent(new URL(settings.fcmEndpoint))
      : new Agent({ keepAlive: true });
    const credential = settings.googleApplicationCredentials
      ? cert(settings.googleApplicationCredentials)
      : settings.fcmEndpoint
        ? loopbackCredential
        : applicationDefault();
    const app = initializeApp(
      { credential, projectId: settings.fcmProjectId, httpAgent: agent },
      `mmp-fcm-${randomUUID()}`,
    );
    const messaging = getMessaging(app);
    messaging.enableLegacyHttpTransport();

    // firebase-admin drops FCM's Retry-After; read it off our own agent's responses.
    let lastRetryAfterMs: number | undefined;
    const onResponse = (message: unknown): void => {
      const request: unknown =
        typeof message === 'object' && message !== null ? Reflect.get(message, 'request') : undefined;
      const response: unknown =
        typeof message === 'object' && message !== null ? Reflect.get(message, 'response') : undefined;
      if (!isRequestOf(request, agent) || !isResponse(response) || response.statusCode !== 429) return;
      const retryAfter = Number(response.headers['retry-after']);
      if (Number.isFinite(retryAfter) && retryAfter >= 0) lastRetryAfterMs = retryAfter * 1000;
    };
    subscribe('http.client.response.finish', onResponse);

    return {
      async send(message) {
        const tokens = [...new Set([message.to].flat())];
        if (tokens.length === 0) throw new FcmSendError('messaging/no-token', 'no push token', [], undefined);
        if (tokens.length > FCM_MULTICAST_LIMIT)
          throw new FcmSendError(
            'messaging/too-many-tokens',
            `at most ${FCM_MULTICAST_LIMIT} tokens`,
            [],
            undefined,
          );
        const multicast: MulticastMessage = {
          tokens,
          notification: { title: message.title ?? '', body: message.body ?? '' },
          data: { messageId: message.messageId },
        };
        lastRetryAfterMs = undefined;
        const batch = await messaging.sendEachForMulticast(multicast);
        const invalidTokens: string[] = [];
        let firstError: { code: string; message: string } | undefined;
        let providerMessageId: string | undefined;
        batch.responses.forEach((response, index) => {
          if (response.success) providerMessageId ??= response.messageId;
          else {
            const code = response.error?.code ?? 'messaging/unknown-error';
            firstError ??= { code, message: response.error?.message ?? code };
            const token = tokens[index];
            if (INVALID_TOKEN_CODES.has(code) && token !== undefined) invalidTokens.push(token);
          }
        });
        if (providerMessageId === undefined) {
          const error = firstError ?? {
            code: 'messaging/unknown-error',
            message: 'no token took the message',
          };
          throw new FcmSendError(error.code, error.message, invalidTokens, lastRetryAfterMs);
        }
        return {
          providerMessageId,
          ...(invalidTokens.length > 0 ? { invalidAddresses: invalidTokens } : {}),
        };
      },
      classifyError: classifyFcmError,
      async close() {
        unsubscribe('http.client.response.finish', onResponse);
        await deleteApp(app);
        agent.destroy();
      },
    };
  },
});

export function classifyFcmError(error: unknown): ErrorClassification {
  if (error instanceof FcmSendError) {
    const invalid = error.invalidTokens.length > 0 ? { invalidAddresses: error.invalidTokens } : {};
    if (error.code === 'messaging/message-rate-exceeded')
      return {
        kind: 'retryable',
        reason: 'fcm_quota_exceeded',
        retryAfterMs: error.retryAfterMs ?? DEFAULT_QUOTA_DELAY_MS,
        ...invalid,
      };
    if (RETRYABLE_CODES.has(error.code))
      return { kind: 'retryable', reason: `fcm_${error.code.replace('messaging/', '')}`, ...invalid };
    if (INVALID_TOKEN_CODES.has(error.code))
      return { kind: 'permanent', reason: 'push_token_unregistered', ...invalid };
    return { kind: 'permanent', reason: `fcm_${error.code.replace('messaging/', '')}`, ...invalid };
  }
  if (error instanceof Error) {
    const code: unknown = Reflect.get(error, 'code');
    if (typeof code === 'string' && /^(ECONNREFUSED|EAI_AGAIN|ENOTFOUND)$/.test(code))
      return { kind: 'retryable', reason: `network_${code}` };
  }
  return { kind: 'permanent', reason: 'fcm_error' };
}

function isRequestOf(value: unknown, agent: Agent): value is ClientRequest {
  return typeof value === 'object' && value !== null && Reflect.get(value, 'agent') === agent;
}

function isResponse(value: unknown): value is IncomingMessage {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'statusCode') === 'number';
}
