import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { recordSpansInMemory, type InMemorySpans } from './in-memory-spans';
import { extractTraceContext, injectTraceContext, linkFromHeaders } from './trace-context';
import { withSpan } from './with-span';

describe('withSpan', () => {
  let spans: InMemorySpans;
  beforeEach(() => {
    spans = recordSpansInMemory();
  });
  afterEach(async () => {
    await spans.shutdown();
  });

  it('returns what the function returns and ends the span with its kind, attributes and links', async () => {
    const link = { context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 } };
    const result = await withSpan('work', async () => 42, {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.batch.message_count': 3 },
      links: [link],
    });

    expect(result).toBe(42);
    const [span, ...others] = spans.finished();
    expect(others).toEqual([]);
    expect(span?.name).toBe('work');
    expect(span?.ended).toBe(true);
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.attributes).toEqual({ 'messaging.batch.message_count': 3 });
    expect(span?.links.map((l) => l.context.spanId)).toEqual(['b'.repeat(16)]);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records the exception, sets error status, ends the span and rethrows the same error', async () => {
    const failure = new Error('database is down');

    await expect(
      withSpan('work', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    const [span] = spans.finished();
    expect(span?.ended).toBe(true);
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database is down' });
    expect(span?.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([
      ['exception', 'database is down'],
    ]);
  });

  it('makes the span active, so a nested span is its child', async () => {
    await withSpan('outer', async (outer) => {
      await withSpan('inner', async (inner) => {
        expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
      });
    });

    const [inner, outer] = spans.finished();
    expect(inner?.name).toBe('inner');
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
  });
});

describe('trace context in message headers', () => {
  let spans: InMemorySpans;
  beforeEach(() => {
    spans = recordSpansInMemory();
  });
  afterEach(async () => {
    await spans.shutdown();
  });

  it('injects the active span as a W3C traceparent into a copy of the headers', async () => {
    const original = { 'schema-version': '1' };

    const { injected, traceId, spanId } = await withSpan('publish', async (span) => ({
      injected: injectTraceContext(original),
      ...span.spanContext(),
    }));

    expect(injected).toEqual({ 'schema-version': '1', traceparent: `00-${traceId}-${spanId}-01` });
    expect(original).toEqual({ 'schema-version': '1' });
  });

  it('injects nothing when no span is active', () => {
    expect(injectTraceContext({ a: 'b' })).toEqual({ a: 'b' });
  });

  it('injects even when no global propagator is registered', async () => {
    propagation.disable();

    const injected = await withSpan('publish', async () => injectTraceContext({}));

    expect(injected.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('continues the remote trace from extracted headers', async () => {
    const headers = { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };

    const span = trace.getTracer('test').startSpan('handle', {}, extractTraceContext(headers));
    span.end();

    expect(span.spanContext().traceId).toBe('1'.repeat(32));
    expect(spans.finished()[0]?.parentSpanContext?.spanId).toBe('2'.repeat(16));
  });

  it('links to the span named by a traceparent header', () => {
    const link = linkFromHeaders({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, other: 'x' });

    expect(link?.context).toMatchObject({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), isRemote: true });
  });

  it('gives no link for missing or malformed trace headers', () => {
    expect(linkFromHeaders({})).toBeUndefined();
    expect(linkFromHeaders({ traceparent: 'not-a-traceparent' })).toBeUndefined();
    expect(linkFromHeaders({ traceparent: `00-${'0'.repeat(32)}-${'2'.repeat(16)}-01` })).toBeUndefined();
  });
});
