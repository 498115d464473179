import startSesLocal from 'aws-ses-v2-local';
import { randomUUID } from 'node:crypto';
import type { ConformanceFake, ReceivedRequest } from './conformance';
import { startHttpFake } from './http-fake';
import { z } from 'zod';

/** One SendRawEmail call as it came over the wire: the form fields and the decoded MIME. */
export interface SesCall {
  fields: Record<string, string>;
  mime: string;
  /** The HTTP status the fake answered. */
  status: number;
}

export interface SesFake extends ConformanceFake {
  readonly endpoint: string;
  /** Every SendRawEmail call, with its exact raw MIME. */
  readonly calls: readonly SesCall[];
  /** What aws-ses-v2-local's `GET /store` lists. */
  store(): Promise<SesStore>;
}

const SesStore = z.object({
  emails: z.array(
    z.object({
      messageId: z.string(),
      from: z.string(),
      subject: z.string(),
      destination: z.object({ to: z.array(z.string()) }),
      body: z.object({ text: z.string().optional(), html: z.string().optional() }),
    }),
  ),
});
export type SesStore = z.infer<typeof SesStore>;

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

/**
 * The SES stand-in: aws-ses-v2-local on a free loopback port, behind a thin recording front
 * that keeps each call's raw MIME and can answer the next call with an SES error instead.
 */
export async function startSesFake(): Promise<SesFake> {
  const local = await startSesLocal({ host: '127.0.0.1', port: 0 });
  const localAddress = local.address();
  if (localAddress === null || typeof localAddress === 'string')
    throw new Error('aws-ses-v2-local has no port');
  const localUrl = `http://127.0.0.1:${localAddress.port}`;
  const calls: SesCall[] = [];
  let failure: 'retryable' | 'permanent' | undefined;

  const front = await startHttpFake(async (request, res) => {
    const fields = Object.fromEntries(new URLSearchParams(request.body));
    let call: SesCall | undefined;
    if (request.method === 'POST' && fields['Action'] === 'SendRawEmail') {
      call = {
        fields,
        mime: Buffer.from(fields['RawMessage.Data'] ?? '', 'base64').toString('utf8'),
        status: 0,
      };
      calls.push(call);
      const failing = failure;
      failure = undefined;
      if (failing) {
        const [status, code, message] =
          failing === 'retryable'
            ? [400, 'Throttling', 'Maximum sending rate exceeded.']
            : [400, 'MessageRejected', 'Email address is not verified.'];
        call.status = status;
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
        return;
      }
    }
    const forwarded = await fetch(`${localUrl}${request.path}`, {
      method: request.method,
      headers: {
        'content-type': String(request.headers['content-type'] ?? 'application/x-www-form-urlencoded'),
        authorization: String(request.headers['authorization'] ?? ''),
      },
      ...(request.method === 'GET' ? {} : { body: request.body }),
    });
    if (call) call.status = forwarded.status;
    res.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'text/xml' });
    res.end(await forwarded.text());
  });

  return {
    endpoint: front.url,
    calls,
    settings: {
      from: 'Shop <shop@example.com>',
      sesRegion: 'us-east-1',
      sesEndpoint: front.url,
      credentials,
    },
    async received(): Promise<readonly ReceivedRequest[]> {
      return calls
        .filter((c) => c.status === 200)
        .map((c) => ({ text: `${JSON.stringify(c.fields)}\n${c.mime}` }));
    },
    async store() {
      const res = await fetch(`${localUrl}/store`);
      return SesStore.parse(await res.json());
    },
    failNext(kind) {
      failure = kind;
    },
    async stop() {
      await front.close();
      await new Promise<void>((resolve) => {
        local.closeAllConnections();
        local.close(() => resolve());
      });
    },
  };
}
