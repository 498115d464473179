import { createServer, type IncomingMessage, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Readable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry } from './telemetry';
import { withSpan } from './with-span';

/** An HTTP endpoint on a free loopback port that records the paths OTLP exporters post to. */
async function startCollector(): Promise<{ server: Server; paths: string[]; url: string; address: string }> {
  const paths: string[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    paths.push(request.url ?? '');
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('the collector has no port');
  const address = `127.0.0.1:${bound.port}`;
  return { server, paths, url: `http://${address}`, address };
}

/**
 * Runs testing/export-one-span.ts in its own Node process with exactly these OTEL_* variables;
 * `connections` are the TCP connections it attempted (`address:port`), refused ones included.
 */
async function runExportOneSpan(
  otelEnvironment: Record<string, string>,
): Promise<{ code: number | null; output: string; connections: string[] }> {
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
  );
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', path.join(__dirname, 'testing', 'export-one-span.ts')],
    {
      env: { ...environment, ...otelEnvironment },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    },
  );
  const [, stdout, stderr, reported] = child.stdio;
  if (!(stdout instanceof Readable && stderr instanceof Readable && reported instanceof Readable))
    throw new Error('the child was spawned without its pipes');
  let output = '';
  let connections = '';
  stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  reported.on('data', (chunk: Buffer) => (connections += chunk.toString()));
  const [code] = await once(child, 'close');
  return { code, output, connections: connections.split('\n').filter((line) => line !== '') };
}

describe('startTelemetry', () => {
  const savedEnvironment = { ...process.env };
  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('OTEL_')) delete process.env[key];
  });
  afterEach(() => {
    process.env = { ...savedEnvironment };
  });

  it('with no OTEL_* environment connects nowhere, not even to the default OTLP port, and prints nothing', async () => {
    const child = await runExportOneSpan({});

    expect(child).toEqual({ code: 0, output: '', connections: [] });
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
    const collector = await startCollector();
    try {
      const child = await runExportOneSpan({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
      });

      // The report sees the exporter's connection, so the empty report above means nothing was sent.
      expect(child).toEqual({ code: 0, output: '', connections: [collector.address] });
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
