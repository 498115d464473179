import { createServer, type IncomingMessage, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry } from './telemetry';
import { withSpan } from './with-span';

/** An HTTP endpoint that records the paths OTLP exporters post to. */
async function startCollector(port: number): Promise<{ server: Server; paths: string[]; url: string }> {
  const paths: string[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    paths.push(request.url ?? '');
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return { server, paths, url: `http://127.0.0.1:${boundPort}` };
}

/** Runs testing/export-one-span.ts in its own Node process with exactly these OTEL_* variables. */
async function runExportOneSpan(
  otelEnvironment: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
  );
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', path.join(__dirname, 'testing', 'export-one-span.ts')],
    {
      env: { ...environment, ...otelEnvironment },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'close');
  return { code, output };
}

describe('startTelemetry', () => {
  const savedEnvironment = { ...process.env };
  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('OTEL_')) delete process.env[key];
  });
  afterEach(() => {
    process.env = { ...savedEnvironment };
  });

  it('with no OTEL_* environment sends nothing to the default OTLP port and prints nothing', async () => {
    // The SDK's default destination: a collector listening there must see no request.
    const collector = await startCollector(4318);
    try {
      const child = await runExportOneSpan({});

      expect(child).toEqual({ code: 0, output: '' });
      expect(collector.paths).toEqual([]);
    } finally {
      collector.server.close();
    }
  });

  it('still creates real spans and registers the W3C propagator, so messages carry a traceparent', async () => {
    const telemetry = startTelemetry({ serviceName: 'test-service' });
    try {
      const { carrier, traceId } = await withSpan('work', async (span) => {
        const headers: Record<string, string> = {};
        propagation.inject(context.active(), headers);
        return { carrier: headers, traceId: span.spanContext().traceId };
      });

      expect(traceId).not.toBe('0'.repeat(32));
      expect(carrier.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    } finally {
      await telemetry.shutdown();
    }
  });

  it('exports traces where the standard OTLP environment points, and only traces', async () => {
    const collector = await startCollector(0);
    try {
      const child = await runExportOneSpan({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
      });

      expect(child).toEqual({ code: 0, output: '' });
      expect(collector.paths).toEqual(['/v1/traces']);
    } finally {
      collector.server.close();
    }
  });

  it('returns the running instance when called twice, and can start again after shutdown', async () => {
    const first = startTelemetry({ serviceName: 'a' });
    expect(startTelemetry({ serviceName: 'b' })).toBe(first);
    await first.shutdown();
    await first.shutdown();

    const second = startTelemetry({ serviceName: 'c' });
    expect(second).not.toBe(first);
    const traceId = await withSpan('work', async (span) => span.spanContext().traceId);
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(traceId).not.toBe('0'.repeat(32));
    await second.shutdown();
  });
});
