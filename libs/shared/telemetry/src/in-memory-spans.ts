import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';

export interface InMemorySpans {
  /** Every span ended so far, in the order they ended. */
  finished(): ReadableSpan[];
  reset(): void;
  shutdown(): Promise<void>;
}

/**
 * For specs: the SDK with an in-memory span exporter instead of the environment's exporters,
 * so a test can assert which spans were made, their parents, links and status.
 */
export function recordSpansInMemory(): InMemorySpans {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    serviceName: 'test',
    autoDetectResources: false,
    textMapPropagator: new W3CTraceContextPropagator(),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    finished: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    shutdown: async () => {
      await sdk.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
