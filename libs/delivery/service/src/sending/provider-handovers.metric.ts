import type { Channel } from '@mmp/contracts';
import { Counter, register } from 'prom-client';

/** What a provider call came to: the message `sent`, queued for a `retry`, `rejected` for good, or `retries_exhausted`. */
export type HandoverOutcome = 'sent' | 'retry' | 'rejected' | 'retries_exhausted';

type HandoverLabel = 'channel' | 'provider' | 'outcome';

/**
 * Messages handed to each provider, by what the call came to. The registry is per process and
 * the platform may build several apps in it, so the counter is made once.
 */
export function providerHandoversCounter(): Counter<HandoverLabel> {
  const existing = register.getSingleMetric('delivery_provider_messages_total');
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: 'delivery_provider_messages_total',
    help: 'Messages handed to a provider, by channel, provider and outcome (sent, retry, rejected, retries_exhausted).',
    labelNames: ['channel', 'provider', 'outcome'],
  });
}

export function countHandover(channel: Channel, provider: string, outcome: HandoverOutcome): void {
  providerHandoversCounter().inc({ channel, provider, outcome });
}
