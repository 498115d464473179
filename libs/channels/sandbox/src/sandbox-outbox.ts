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

  record(message: OutboundMessage): RecordedMessage {
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

export const sandboxOutbox = new SandboxOutbox();
