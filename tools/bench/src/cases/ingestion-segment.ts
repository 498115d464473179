import type { BenchCase } from '../bench-case';
import { INGESTION_HTTP_CPU_FIGURE, INGESTION_HTTP_FIGURE, runIngestionOverHttp } from './ingestion-http';

/**
 * The Segment-compatible API under the HTTP case's load: the same events, as Segment calls
 * (identify, `Order Completed`, `Product Viewed`) in `/v1/segment/batch` bodies of 1000; the
 * ratio to `ingestion-http` is what mapping Segment's payloads costs.
 */
export const ingestionSegmentCase: BenchCase = {
  id: 'ingestion-segment',
  description:
    'ingestion alone: POST /v1/segment/batch, the ingestion-http mix as 1000 Segment calls per batch, 4 concurrent requests',
  run: async (context) =>
    runIngestionOverHttp(context, {
      api: 'segment',
      label: 'ingestion over the Segment API',
      figure: 'ingestion over the Segment API (/v1/segment/batch of 1000 → profiles)',
      baseline: INGESTION_HTTP_FIGURE,
      cpuBaseline: INGESTION_HTTP_CPU_FIGURE,
    }),
};
