import type { Channel } from '@mmp/contracts';
import type { z } from 'zod';

/**
 * The channel SDK: everything a delivery plugin implements. One plugin is one lib exporting
 * one `ChannelPlugin` object; the delivery service loads the plugin a setting names
 * (`EMAIL_PROVIDER=sandbox`, `SMS_PROVIDER=@acme/whatsapp-plugin`) and never knows its vendor.
 */

/** A rendered message, ready for a provider. */
export interface OutboundMessage {
  /** The platform's idempotency key: pass it to providers that accept one. */
  messageId: string;
  customerId: string;
  channel: Channel;
  /** Email address, E.164 phone number, or push tokens. */
  to: string | readonly string[];
  from: string | undefined;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  /** SMS body or push body. */
  body: string | undefined;
  /** Push title. */
  title: string | undefined;
  /** Extra headers, e.g. List-Unsubscribe for email. */
  headers: Readonly<Record<string, string>>;
}

export interface SendResult {
  /** The provider's id for the message, used to match delivery receipts. */
  providerMessageId: string;
  /**
   * Addresses the provider reported as gone for good (an unregistered push token). The message
   * counts as sent when at least one address took it; delivery records these so they are never
   * used again (see the delivery section of the README).
   */
  invalidAddresses?: readonly string[];
}

/**
 * How a provider error should be handled: `retryable` (throttling, a 5xx) is retried with
 * backoff; `permanent` (a rejected address, bad credentials) fails the message with `reason`.
 */
export interface ErrorClassification {
  kind: 'retryable' | 'permanent';
  reason: string;
  /** A provider-requested delay (Retry-After), when it gave one. */
  retryAfterMs?: number;
  /** Addresses the provider reported gone for good, even though the send failed (see SendResult). */
  invalidAddresses?: readonly string[];
}

export interface ChannelSender {
  send(message: OutboundMessage): Promise<SendResult>;
  classifyError(error: unknown): ErrorClassification;
  close?(): Promise<void>;
}

/** Message statuses a provider receipt can report (SPEC section 6). */
export type ReceiptStatus = 'delivered' | 'bounced' | 'failed' | 'complained';

/** One provider receipt, matched to a message by the provider's message id. */
export interface MessageReceipt {
  providerMessageId: string;
  status: ReceiptStatus;
  /** Why, for bounced/failed/complained: `permanent_bounce`, a provider error code... */
  reason: string | null;
  /** The address the receipt is about (a bounced recipient), when the provider names it. */
  address: string | null;
  occurredAt: string | null;
}

/** An HTTP request to a provider webhook, as the delivery service received it. */
export interface WebhookRequest {
  /** The full public URL the provider posted to (PUBLIC_URL + path), for signature checks. */
  url: string;
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body text. */
  rawBody: string;
}

/**
 * What a webhook carried: receipts to record, or a reply the provider expects (an SNS
 * subscription confirmation), or a rejection (a bad signature: 403).
 */
export type WebhookOutcome =
  | { kind: 'receipts'; receipts: readonly MessageReceipt[] }
  | { kind: 'subscription'; confirmUrl: string; topic: string }
  | { kind: 'rejected'; reason: string };

/** Optional: a plugin whose provider posts delivery receipts parses them here. */
export interface WebhookParser {
  parseWebhook(request: WebhookRequest): WebhookOutcome;
}

/**
 * How the plugin keeps a retried send from reaching the customer twice: `provider` passes
 * `messageId` as the provider's idempotency key; `carried` sends it along (a header, a tag,
 * a data field) so receipts and support can find it; `none` when the provider has no place.
 */
export type IdempotencySupport = 'provider' | 'carried' | 'none';

export interface ChannelPlugin<Settings = unknown> {
  /** The name a setting uses to select the plugin: `sandbox`, `ses`, or an npm package name. */
  readonly name: string;
  readonly channel: Channel;
  /** Validates the plugin's settings before it is created, so a bad setting stops start-up. */
  readonly settingsSchema: z.ZodType<Settings>;
  /** Default `none`; the conformance kit checks what the plugin claims. */
  readonly idempotency?: IdempotencySupport;
  /** Default rate limit when none is configured: messages per second, and the burst. */
  readonly defaultRateLimit?: { perSecond: number; burst: number };
  create(settings: Settings): ChannelSender & Partial<WebhookParser>;
}

/** Identity helper that keeps the settings type tied to the schema. */
export function defineChannelPlugin<Settings>(plugin: ChannelPlugin<Settings>): ChannelPlugin<Settings> {
  return plugin;
}
