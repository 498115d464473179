import type { BenchCase } from '../bench-case';
import { analyticsCase } from './analytics';
import { customersCase } from './customers';
import { deliveryCase } from './delivery';
import { ingestionHttpCase } from './ingestion-http';
import { ingestionKafkaCase } from './ingestion-kafka';
import { ingestionSegmentCase } from './ingestion-segment';
import { ingestionSourceCase } from './ingestion-source';
import { journeysCase } from './journeys';
import { latencyFloorCase } from './latency-floor';
import { milestonesScheduleCase } from './milestones-schedule';
import { orderPathCase } from './order-path';
import { orderPathEmbeddedCase } from './order-path-embedded';
import { rawCeilingCase } from './raw-ceiling';

/**
 * Every benchmark `npm run bench` runs, in this order. A case may compare itself with the
 * figures of those before it (the order path divides by the raw ceiling), so baselines go first.
 * Later issues append their case here.
 */
export const BENCH_CASES: readonly BenchCase[] = [
  rawCeilingCase,
  latencyFloorCase,
  orderPathCase,
  orderPathEmbeddedCase,
  ingestionHttpCase,
  ingestionKafkaCase,
  milestonesScheduleCase,
  journeysCase,
  deliveryCase,
  analyticsCase,
  // Compared with ingestion-http and ingestion-kafka, which run before them.
  ingestionSegmentCase,
  ingestionSourceCase,
  customersCase,
];
