import { ConversionV1, JourneyMetricsV1 } from '../events/analytics';
import { ConsentChangeV1 } from '../events/consent-change';
import { CustomerEventV1 } from '../events/customer-event';
import { JourneyEntryV1 } from '../events/journey-entry';
import { MessageEventV1 } from '../events/message-event';
import { MessageRequestedV1 } from '../events/message-requested';
import { MilestoneReachedV1 } from '../events/milestone-reached';
import { ProgramChangedV1 } from '../events/program-changed';
import { RetailEventV1 } from '../events/retail-event';
import { SandboxClockMovedV1 } from '../events/sandbox-clock-moved';
import { defineTopic } from '../topic';

// Topic names are public interface (SPEC section 2). Do not change one without a migration plan:
// consumers in other teams subscribe to these names.

export const RetailEventsTopic = defineTopic({
  name: 'retail.events.v1',
  dlq: 'retail.events.dlq.v1',
  schemaVersion: 1,
  schema: RetailEventV1,
  description:
    'Raw retailer events (SPEC section 4). Invalid records go to retail.events.dlq.v1 with the reason. Delivery also publishes push.token.unregistered here for tokens FCM reports gone.',
});

export const CustomerEventsTopic = defineTopic({
  name: 'customer.events.v1',
  schemaVersion: 1,
  schema: CustomerEventV1,
  description: 'Validated, deduplicated, identity-resolved events with the profile after applying each.',
});

export const MilestonesReachedTopic = defineTopic({
  name: 'milestones.reached.v1',
  schemaVersion: 1,
  schema: MilestoneReachedV1,
  description: 'One message per milestone occurrence; occurrenceId is deterministic.',
});

export const MessagesRequestedTopic = defineTopic({
  name: 'messages.requested.v1',
  schemaVersion: 1,
  schema: MessageRequestedV1,
  description:
    'A journey step asks for a message; messageId is the idempotency key for sending. A request whose provider retries ran out also goes, unchanged, to messages.requested.v1.dlq, with dlq-reason, dlq-attempts and dlq-last-error headers.',
});

export const MessagesEventsTopic = defineTopic({
  name: 'messages.events.v1',
  schemaVersion: 1,
  schema: MessageEventV1,
  description:
    'Every status change of every message: queued, sent, delivered, opened, clicked, bounced, failed, suppressed.',
});

export const ConsentChangesTopic = defineTopic({
  name: 'consent.changes.v1',
  schemaVersion: 1,
  schema: ConsentChangeV1,
  description: 'Every consent change, keyed by customer; delivery keeps its own view from it.',
});

export const JourneyEntriesTopic = defineTopic({
  name: 'journeys.entries.v1',
  schemaVersion: 1,
  schema: JourneyEntryV1,
  description:
    'One message per journey instance entered, treatment and holdout alike, with its goal window: the denominators of lift.',
});

export const ConversionsTopic = defineTopic({
  name: 'analytics.conversions.v1',
  schemaVersion: 1,
  schema: ConversionV1,
  description: 'A journey goal reached within its window, for treatment and holdout alike.',
});

export const JourneyMetricsTopic = defineTopic({
  name: 'analytics.journey-metrics.v1',
  schemaVersion: 1,
  schema: JourneyMetricsV1,
  description: 'Periodic per-journey counts for data teams.',
});

export const ProgramChangesTopic = defineTopic({
  name: 'program.changes.v1',
  schemaVersion: 1,
  schema: ProgramChangedV1,
  description:
    'Internal: every program accepted over PUT /v1/program, keyed "program". Every service process reads it from the beginning in a group of its own and switches to the latest.',
});

export const SandboxClockTopic = defineTopic({
  name: 'sandbox.clock.v1',
  schemaVersion: 1,
  schema: SandboxClockMovedV1,
  description:
    'Internal, sandbox only: every move of the sandbox clock accepted over POST /v1/sandbox/clock, keyed "clock". Every service process reads it whole at start-up and then follows it in a group of its own, moving forward only.',
});

export const AllTopics = [
  RetailEventsTopic,
  CustomerEventsTopic,
  MilestonesReachedTopic,
  MessagesRequestedTopic,
  MessagesEventsTopic,
  ConsentChangesTopic,
  JourneyEntriesTopic,
  ConversionsTopic,
  JourneyMetricsTopic,
  ProgramChangesTopic,
  SandboxClockTopic,
] as const;
