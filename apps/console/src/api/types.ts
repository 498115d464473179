/** The shapes the console reads, as /work contract `console-api` and SPEC sections 4-8 define them. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ProblemDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface CustomerSummary {
  customerId: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  registeredAt: string | null;
  updatedAt: string;
}

export interface CustomerProfile {
  customerId: string;
  traits: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

export interface CustomerEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  receivedAt: string;
  properties: Record<string, unknown>;
}

export interface MilestoneReached {
  key: string;
  occurrence: string;
  reachedAt: string;
}

export interface JourneyInstance {
  journeyKey: string;
  journeyVersion: string;
  group: 'treatment' | 'holdout';
  status: 'active' | 'waiting' | 'completed' | 'exited';
  currentStep: string | null;
  waitingUntil: string | null;
  enteredAt: string;
  exitReason: string | null;
}

export type MessageStatus =
  'queued' | 'sent' | 'delivered' | 'opened' | 'clicked' | 'bounced' | 'failed' | 'suppressed';

export interface StatusChange {
  status: MessageStatus;
  reason: string | null;
  occurredAt: string;
}

export interface MessageView {
  messageId: string;
  customerId: string;
  journeyKey: string | null;
  stepId: string | null;
  milestoneKey: string | null;
  channel: 'email' | 'sms' | 'push';
  template: string;
  variant: string | null;
  to: string | null;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  createdAt: string;
  sentAt: string | null;
  statusHistory?: StatusChange[];
}

export interface ConsentChannel {
  channel: string;
  model: string;
  status: string;
  allowed: boolean;
  source: string | null;
  changedAt: string | null;
}

export interface ConsentState {
  customerId: string;
  channels: ConsentChannel[];
}

export interface ConsentChange {
  changeId: string;
  channel: string;
  status: string;
  source: string;
  actor: string | null;
  changedAt: string;
}

export type JourneyStep =
  | { id: string; send: { template?: string; variants?: { template: string; weight: number }[] } }
  | { id: string; wait: Record<string, unknown> }
  | { id: string; branch: { if: Record<string, unknown>; then?: string; else?: string } };

export interface JourneyDefinition {
  key: string;
  version: string;
  trigger: string;
  priority: number;
  holdoutPercent: number;
  goal: { event: string; withinDays: number } | null;
  exitOn: string[];
  steps: JourneyStep[];
  inFlight: number;
  versions?: { version: string; createdAt: string; inFlight: number }[];
}

export type ByGroup = { treatment: number; holdout: number };

export interface StepCounts {
  stepId: string;
  kind: 'send' | 'wait' | 'branch';
  entered: ByGroup;
  waitingNow: number;
  requested: number;
  suppressed: Record<string, number>;
  exited: Record<string, number>;
  converted: ByGroup;
}

export interface JourneyCounts {
  journeyKey: string;
  entered: ByGroup;
  inFlight: number;
  converted: ByGroup;
  exited: Record<string, number>;
  completed: ByGroup;
  steps: StepCounts[];
}

export interface StepOutcomes {
  stepId: string;
  messages: number;
  statuses: Partial<Record<MessageStatus, number>>;
  suppressed: Record<string, number>;
  failed: Record<string, number>;
  variants: { variant: string; messages: number; statuses: Partial<Record<MessageStatus, number>> }[];
}

export interface MessageSummary {
  journeyKey: string;
  steps: StepOutcomes[];
}

export interface TemplateSummary {
  name: string;
  channel: 'email' | 'sms' | 'push';
}

export interface TemplatePreview {
  template: string;
  channel: 'email' | 'sms' | 'push';
  subject?: string | null;
  html?: string | null;
  text?: string | null;
  body?: string | null;
  title?: string | null;
  testSend?: { to: string; provider: string; providerMessageId: string };
}

export interface ProgramValidation {
  valid: boolean;
  errors: ProblemDetail[];
  currentVersion: string;
  version?: string;
  diff?: string;
  journeys?: {
    key: string;
    change: 'changed' | 'added' | 'removed' | 'unchanged';
    currentVersion: string | null;
    version: string | null;
    inFlightStayingOnCurrent: number;
  }[];
}

export interface JourneyReportSummary {
  journeyKey: string;
  [figure: string]: unknown;
}
