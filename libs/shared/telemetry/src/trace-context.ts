import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Link,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// Used directly rather than through the global propagator, so that message headers carry W3C
// trace context even in a process (or a test) that never started the SDK.
const propagator = new W3CTraceContextPropagator();

/** A copy of `headers` with the `traceparent` (and `tracestate`) of the active span added. */
export function injectTraceContext(headers: Record<string, string>): Record<string, string> {
  const carrier: Record<string, string> = { ...headers };
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier;
}

/** The active context with the remote span of `headers` as parent, for continuing a trace. */
export function extractTraceContext(headers: Record<string, string>): Context {
  return propagator.extract(context.active(), headers, defaultTextMapGetter);
}

/** A link to the span that produced a message, for a batch span that handles many messages. */
export function linkFromHeaders(headers: Record<string, string>): Link | undefined {
  const spanContext = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}
