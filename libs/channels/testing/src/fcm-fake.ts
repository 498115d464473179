import { randomBytes } from 'node:crypto';
import type { ConformanceFake, ReceivedRequest } from './conformance';
import { sendJson, startHttpFake } from './http-fake';

/** One FCM v1 `messages:send` call as it came over the wire. */
export interface FcmCall {
  path: string;
  host: string | undefined;
  authorization: string | undefined;
  /** The JSON body exactly as posted: `{ message: { token, notification, data, ... } }`. */
  json: unknown;
  token: string | undefined;
  status: number;
}

export interface FcmFake extends ConformanceFake {
  /** `http://127.0.0.1:port`: what FCM_ENDPOINT names in tests. */
  readonly endpoint: string;
  readonly calls: readonly FcmCall[];
  /** Answers the next call with QUOTA_EXCEEDED (429) and this Retry-After in seconds. */
  failNextWithQuota(retryAfterSeconds: number): void;
}

/** Tokens that start with this are answered UNREGISTERED (404), as FCM does for an uninstalled app. */
export const UNREGISTERED_TOKEN_PREFIX = 'unregistered-';

const fcmError = (code: number, status: string, errorCode: string, message: string) => ({
  error: {
    code,
    message,
    status,
    details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
  },
});

/**
 * The FCM HTTP v1 stand-in. The plugin reaches it through an https.Agent whose connections go
 * to this plain-HTTP loopback server, so firebase-admin still believes it talks to
 * fcm.googleapis.com (the Host header shows it).
 */
export async function startFcmFake(projectId = 'mmp-test'): Promise<FcmFake> {
  const calls: FcmCall[] = [];
  const failures: { status: number; body: unknown; headers: Record<string, string> }[] = [];
  const server = await startHttpFake((request, res) => {
    let json: unknown;
    try {
      json = JSON.parse(request.body);
    } catch {
      json = undefined;
    }
    const message: unknown =
      typeof json === 'object' && json !== null ? Reflect.get(json, 'message') : undefined;
    const token: unknown =
      typeof message === 'object' && message !== null ? Reflect.get(message, 'token') : undefined;
    const host = request.headers['host'];
    const authorization = request.headers['authorization'];
    const call: FcmCall = {
      path: request.path,
      host: typeof host === 'string' ? host : undefined,
      authorization: typeof authorization === 'string' ? authorization : undefined,
      json,
      token: typeof token === 'string' ? token : undefined,
      status: 200,
    };
    calls.push(call);
    const failure = failures.shift();
    if (failure) {
      call.status = failure.status;
      sendJson(res, failure.status, failure.body, failure.headers);
      return;
    }
    if (call.token?.startsWith(UNREGISTERED_TOKEN_PREFIX)) {
      call.status = 404;
      sendJson(res, 404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'));
      return;
    }
    sendJson(res, 200, { name: `projects/${projectId}/messages/${randomBytes(8).toString('hex')}` });
  });
  return {
    endpoint: server.url,
    calls,
    settings: { fcmProjectId: projectId, fcmEndpoint: server.url },
    async received(): Promise<readonly ReceivedRequest[]> {
      return calls.filter((c) => c.status === 200).map((c) => ({ text: JSON.stringify(c.json) }));
    },
    failNext(kind) {
      failures.push(
        kind === 'retryable'
          ? {
              status: 429,
              body: fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.'),
              headers: { 'retry-after': '30' },
            }
          : {
              status: 400,
              body: fcmError(
                400,
                'INVALID_ARGUMENT',
                'INVALID_ARGUMENT',
                'The registration token is not valid.',
              ),
              headers: {},
            },
      );
    },
    failNextWithQuota(retryAfterSeconds) {
      failures.push({
        status: 429,
        body: fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.'),
        headers: { 'retry-after': String(retryAfterSeconds) },
      });
    },
    stop: () => server.close(),
  };
}
