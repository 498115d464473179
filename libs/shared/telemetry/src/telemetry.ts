import { context, propagation, trace } from '@opentelemetry/api';
import { getStringFromEnv, getStringListFromEnv, W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';

export interface Telemetry {
  /** Flushes whatever the exporters still hold and unregisters the SDK. */
  shutdown(): Promise<void>;
}

let running: Telemetry | undefined;

/**
 * Starts the OpenTelemetry SDK for this process. Exporters come only from the standard `OTEL_*`
 * environment, read by the SDK itself (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT...).
 *
 * The SDK's own default is to send OTLP to localhost:4318 when nothing is set; here a signal is
 * exported only when the environment asks for it, so a developer's `npm start` sends nothing
 * anywhere. Spans are still created and propagated in that case: Kafka messages carry a
 * `traceparent` whether or not anything collects the traces.
 *
 * Calling it again while running returns the running instance: one SDK per process.
 */
export function startTelemetry(options: { serviceName: string }): Telemetry {
  if (running) return running;

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    textMapPropagator: new W3CTraceContextPropagator(),
    spanProcessors: exportRequested('TRACES') ? undefined : [new NoopSpanProcessor()],
    metricReaders: exportRequested('METRICS') ? undefined : [],
    logRecordProcessors: exportRequested('LOGS') ? undefined : [],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    shutdown: () =>
      (stopping ??= sdk.shutdown().finally(() => {
        // Unregistered so that a later start (another test, a restart) can register again.
        trace.disable();
        propagation.disable();
        context.disable();
        if (running === telemetry) running = undefined;
      })),
  };
  running = telemetry;
  return telemetry;
}

type Signal = 'TRACES' | 'METRICS' | 'LOGS';

/** Whether the OTEL_* environment names an exporter or an OTLP endpoint for this signal. */
function exportRequested(signal: Signal): boolean {
  const exporters = getStringListFromEnv(`OTEL_${signal}_EXPORTER`) ?? [];
  if (exporters.length > 0) return exporters.some((name) => name !== 'none');
  return (
    getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) !== undefined ||
    getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined
  );
}
