import type {
  ConsentChange,
  CustomerEvent,
  JourneyInstance,
  MessageView,
  MilestoneReached,
} from '../../api/types';
import { formatValue } from '../../app/format';

/** One line of a customer's timeline, whichever service it came from. */
export interface TimelineEntry {
  /** Stable across reloads (React key, and what a test asserts on). */
  id: string;
  at: string;
  kind: 'event' | 'milestone' | 'journey' | 'message' | 'consent';
  title: string;
  detail: string;
}

export interface TimelineSources {
  events: readonly CustomerEvent[];
  milestones: readonly MilestoneReached[];
  journeys: readonly JourneyInstance[];
  messages: readonly MessageView[];
  consent: readonly ConsentChange[];
}

/** Same-instant entries keep cause before effect: the event, then the milestone it reached, ... */
const KIND_ORDER: Record<TimelineEntry['kind'], number> = {
  event: 0,
  milestone: 1,
  journey: 2,
  message: 3,
  consent: 4,
};

/**
 * Merges what five services know about one customer into one timeline, newest first. A journey
 * gives an "entered" line and, once over, an "exited"/"completed" line with its reason; a
 * message gives one line per status it went through (its history when known, else its creation
 * and current status).
 */
export function mergeTimeline(sources: TimelineSources): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const event of sources.events) {
    entries.push({
      id: `event:${event.eventId}`,
      at: event.occurredAt,
      kind: 'event',
      title: event.type,
      detail: describeProperties(event.properties),
    });
  }
  for (const milestone of sources.milestones) {
    entries.push({
      id: `milestone:${milestone.key}:${milestone.occurrence}`,
      at: milestone.reachedAt,
      kind: 'milestone',
      title: `reached ${milestone.key}`,
      detail: `occurrence ${milestone.occurrence}`,
    });
  }
  for (const journey of sources.journeys) entries.push(...journeyEntries(journey));
  for (const message of sources.messages) entries.push(...messageEntries(message));
  for (const change of sources.consent) {
    entries.push({
      id: `consent:${change.changeId}`,
      at: change.changedAt,
      kind: 'consent',
      title: `${change.channel} ${change.status.replace('_', ' ')}`,
      detail: [change.source, change.actor].filter(Boolean).join(' · '),
    });
  }
  return entries.sort(
    (a, b) =>
      Date.parse(b.at) - Date.parse(a.at) ||
      KIND_ORDER[b.kind] - KIND_ORDER[a.kind] ||
      b.id.localeCompare(a.id, 'en', { numeric: true }),
  );
}

/**
 * The journeys API tells when a customer entered and how the instance stands now, not when it
 * ended: one line at entry, whose detail says where it is or how and why it ended.
 */
function journeyEntries(journey: JourneyInstance): TimelineEntry[] {
  const where = journey.currentStep ? ` at ${journey.currentStep}` : '';
  const until = journey.waitingUntil ? ` until ${journey.waitingUntil}` : '';
  const ended = journey.status === 'exited' || journey.status === 'completed';
  const state = ended
    ? `${journey.status}${journey.exitReason ? `, reason ${journey.exitReason}` : ''}`
    : `${journey.status}${where}${until}`;
  return [
    {
      id: `journey:${journey.journeyKey}:${journey.enteredAt}`,
      at: journey.enteredAt,
      kind: 'journey',
      title: `entered ${journey.journeyKey}`,
      detail: `${journey.group}, version ${journey.journeyVersion.slice(0, 8)}; ${state}`,
    },
  ];
}

function messageEntries(message: MessageView): TimelineEntry[] {
  const what = `${message.channel} ${message.template}${message.variant ? ` (${message.variant})` : ''}`;
  const history = message.statusHistory ?? [
    { status: 'queued' as const, reason: null, occurredAt: message.createdAt },
    ...(message.status === 'queued'
      ? []
      : [
          { status: message.status, reason: message.reason, occurredAt: message.sentAt ?? message.createdAt },
        ]),
  ];
  return history.map((change, index) => ({
    id: `message:${message.messageId}:${index}`,
    at: change.occurredAt,
    kind: 'message',
    title: `${what} ${change.status}`,
    detail: [message.journeyKey && `${message.journeyKey}/${message.stepId ?? ''}`, change.reason]
      .filter(Boolean)
      .join(' · '),
  }));
}

function describeProperties(properties: Record<string, unknown>): string {
  return Object.entries(properties)
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join(' ');
}
