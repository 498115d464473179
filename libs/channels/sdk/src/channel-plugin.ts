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
}

export interface ChannelSender {
  send(message: OutboundMessage): Promise<SendResult>;
  classifyError(error: unknown): ErrorClassification;
  close?(): Promise<void>;
}

export interface ChannelPlugin<Settings = unknown> {
  /** The name a setting uses to select the plugin: `sandbox`, `ses`, or an npm package name. */
  readonly name: string;
  readonly channel: Channel;
  /** Validates the plugin's settings before it is created, so a bad setting stops start-up. */
  readonly settingsSchema: z.ZodType<Settings>;
  create(settings: Settings): ChannelSender;
}

/** Identity helper that keeps the settings type tied to the schema. */
export function defineChannelPlugin<Settings>(plugin: ChannelPlugin<Settings>): ChannelPlugin<Settings> {
  return plugin;
}
