export * from './telemetry';
export * from './with-span';
export * from './trace-context';
export * from './in-memory-spans';
export * from './scraped-gauge';
export * from './operator-gauges';
export {
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
export type { ReadableSpan } from '@opentelemetry/sdk-trace';
