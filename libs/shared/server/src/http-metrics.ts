import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, register } from 'prom-client';

import { matchedRoutePattern } from './route-pattern.util';

type HttpLabel = 'method' | 'route' | 'status';

/** The route label of requests no route matched, so unknown URLs cannot add label values. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The default registry is per process, and the one-process platform or a test file may build
 * several apps in it: each metric is made once and found again afterwards.
 */
function ensureDefaultMetrics(): void {
  if (register.getSingleMetric('process_cpu_user_seconds_total') !== undefined) return;
  collectDefaultMetrics();
  for (const name of GAUGES_NAMED_AS_COUNTERS) register.removeSingleMetric(name);
}

/**
 * prom-client's default gauges that end in `_total`, which `promtool check metrics` rejects for
 * a non-counter. Each is the sum of the same gauge by type (`nodejs_active_handles{type}`...),
 * which stays: `sum(nodejs_active_handles)` is the total.
 */
const GAUGES_NAMED_AS_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

function requestCounter(): Counter<HttpLabel> {
  const existing = register.getSingleMetric('http_requests_total');
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, matched route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
  });
}

function durationHistogram(): Histogram<HttpLabel> {
  const existing = register.getSingleMetric('http_request_duration_seconds');
  if (existing instanceof Histogram) return existing;
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its answer, by method, matched route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
  });
}

/** Counts and times every HTTP answer, including the ones given before any route was chosen. */
@Injectable()
export class HttpMetrics {
  private readonly requests = requestCounter();
  private readonly duration = durationHistogram();

  constructor() {
    ensureDefaultMetrics();
  }

  /**
   * An Express middleware to mount before the body parsers, so that rejected bodies (400, 413)
   * are counted too. The route is read when the answer is finished, after routing.
   */
  middleware(): RequestHandler {
    return (request: Request, response: Response, next: NextFunction) => {
      const started = process.hrtime.bigint();
      response.on('finish', () => {
        const labels = {
          method: request.method,
          route: matchedRoutePattern(request) ?? UNMATCHED_ROUTE,
          status: String(response.statusCode),
        };
        this.requests.inc(labels);
        this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    };
  }
}
