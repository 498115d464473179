import type { Channel } from '@mmp/contracts';
import { defineChannelPlugin, type ChannelPlugin } from '@mmp/channel-sdk';
import { z } from 'zod';
import { SandboxFailure, sandboxOutbox, type SandboxOutbox } from './sandbox-outbox';

const SandboxSettings = z.object({}).passthrough();

/** A plugin per channel that records messages in the outbox instead of calling a provider. */
export function sandboxPlugin(
  channel: Channel,
  outbox: SandboxOutbox = sandboxOutbox,
): ChannelPlugin<object> {
  return defineChannelPlugin({
    name: 'sandbox',
    channel,
    settingsSchema: SandboxSettings,
    idempotency: 'carried',
    // Nothing leaves the process, so nothing needs throttling: sandbox runs go as fast as the platform.
    defaultRateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    create: () => ({
      async send(message) {
        return { providerMessageId: outbox.record(message).providerMessageId };
      },
      classifyError: (error) =>
        error instanceof SandboxFailure
          ? { kind: error.kind, reason: `sandbox_${error.kind}` }
          : { kind: 'permanent', reason: error instanceof Error ? error.message : 'sandbox send failed' },
    }),
  });
}
