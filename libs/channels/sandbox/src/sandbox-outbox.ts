import type { OutboundMessage } from '@mmp/channel-sdk';

export interface RecordedMessage extends OutboundMessage {
  providerMessageId: string;
  recordedAt: Date;
}

/**
 * Where sandbox plugins put messages instead of calling a provider. One outbox per process,
 * so a test or the sandbox API can read everything "sent" on every channel.
 */
export class SandboxOutbox {
  private readonly messages: RecordedMessage[] = [];
  private readonly failures: ('retryable' | 'permanent')[] = [];

  /** The next send fails as a provider would (for conformance and retry tests). */
  failNext(kind: 'retryable' | 'permanent'): void {
    this.failures.push(kind);
  }

  record(message: OutboundMessage): RecordedMessage {
    const failure = this.failures.shift();
    if (failure) throw new SandboxFailure(failure);
    const recorded: RecordedMessage = {
      ...message,
      providerMessageId: `sandbox-${message.messageId}`,
      recordedAt: new Date(),
    };
    this.messages.push(recorded);
    return recorded;
  }

  all(): readonly RecordedMessage[] {
    return this.messages;
  }

  forCustomer(customerId: string): RecordedMessage[] {
    return this.messages.filter((m) => m.customerId === customerId);
  }
}

/** A failure the sandbox was told to simulate. */
export class SandboxFailure extends Error {
  override readonly name = 'SandboxFailure';
  constructor(readonly kind: 'retryable' | 'permanent') {
    super(`sandbox ${kind} failure`);
  }
}

export const sandboxOutbox = new SandboxOutbox();
