import { randomBytes } from 'node:crypto';
import type { ConformanceFake, ReceivedRequest } from './conformance';
import { sendJson, startHttpFake } from './http-fake';

/** One Messages.create call as it came over the wire. */
export interface TwilioCall {
  path: string;
  /** The form fields exactly as posted (`To`, `From`, `Body`, `StatusCallback`...). */
  fields: Record<string, string>;
  authorization: string | undefined;
  status: number;
}

export interface TwilioFake extends ConformanceFake {
  readonly apiBase: string;
  readonly calls: readonly TwilioCall[];
  /** Answers the next call with this status and Twilio error code (5xx, 20429, 21211...). */
  failNextWith(status: number, code: number, message: string): void;
}

export const TWILIO_TEST_ACCOUNT_SID = 'AC00000000000000000000000000000001';
export const TWILIO_TEST_AUTH_TOKEN = 'twilio-test-auth-token';

/** The Twilio REST stand-in: records the form fields of each message and answers like Twilio. */
export async function startTwilioFake(): Promise<TwilioFake> {
  const calls: TwilioCall[] = [];
  const failures: { status: number; code: number; message: string }[] = [];
  const server = await startHttpFake((request, res) => {
    const match = /^\/2010-04-01\/Accounts\/(\w+)\/Messages\.json$/.exec(request.path);
    if (request.method !== 'POST' || !match) {
      sendJson(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      return;
    }
    const fields = Object.fromEntries(new URLSearchParams(request.body));
    const authorization = request.headers['authorization'];
    const call: TwilioCall = {
      path: request.path,
      fields,
      authorization: typeof authorization === 'string' ? authorization : undefined,
      status: 201,
    };
    calls.push(call);
    const failure = failures.shift();
    if (failure) {
      call.status = failure.status;
      sendJson(res, failure.status, {
        code: failure.code,
        message: failure.message,
        more_info: `https://www.twilio.com/docs/errors/${failure.code}`,
        status: failure.status,
      });
      return;
    }
    sendJson(res, 201, {
      sid: `SM${randomBytes(16).toString('hex')}`,
      account_sid: match[1],
      to: fields['To'],
      from: fields['From'] ?? null,
      messaging_service_sid: fields['MessagingServiceSid'] ?? null,
      body: fields['Body'],
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `${request.path.replace('.json', '')}/SM.json`,
    });
  });
  return {
    apiBase: server.url,
    calls,
    settings: {
      from: '+14155550199',
      twilioAccountSid: TWILIO_TEST_ACCOUNT_SID,
      twilioAuthToken: TWILIO_TEST_AUTH_TOKEN,
      twilioApiBase: server.url,
      publicUrl: 'https://m.example.com',
    },
    async received(): Promise<readonly ReceivedRequest[]> {
      return calls.filter((c) => c.status === 201).map((c) => ({ text: JSON.stringify(c.fields) }));
    },
    failNext(kind) {
      failures.push(
        kind === 'retryable'
          ? { status: 429, code: 20429, message: 'Too Many Requests' }
          : { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
      );
    },
    failNextWith(status, code, message) {
      failures.push({ status, code, message });
    },
    stop: () => server.close(),
  };
}
