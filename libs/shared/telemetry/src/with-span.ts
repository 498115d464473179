import { describeError } from '@mmp/errors';
import {
  trace,
  SpanStatusCode,
  type Attributes,
  type Link,
  type Span,
  type SpanKind,
} from '@opentelemetry/api';

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
}

const TRACER_NAME = '@mmp/telemetry';

/**
 * Runs `fn` inside a new active span: whatever `fn` starts (a query, a publish) becomes its child.
 * A throw is recorded on the span as an exception with error status and then rethrown; the span
 * ends either way, so no code path can leak an open span.
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  // Looked up per call, so spans go to whichever provider is registered by then.
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : describeError(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
