import { fcmPlugin } from '@mmp/channel-fcm';
import type { ChannelPlugin, ChannelSender, WebhookParser } from '@mmp/channel-sdk';
import { sandboxPlugin } from '@mmp/channel-sandbox';
import { sesPlugin } from '@mmp/channel-ses';
import { twilioPlugin } from '@mmp/channel-twilio';
import { parseRateLimit } from '@mmp/delivery-domain';
import { AppConfig } from '@mmp/config';
import type { Channel } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';

/**
 * The plugins the platform ships, by the name a setting uses. Adding a built-in channel plugin
 * is one line here; a channel team's plugin needs none: it is loaded by its npm package name.
 */
const BUILT_IN_PLUGINS: Readonly<Record<string, (channel: Channel) => ChannelPlugin>> = {
  sandbox: (channel) => sandboxPlugin(channel),
  ses: () => sesPlugin,
  twilio: () => twilioPlugin,
  fcm: () => fcmPlugin,
};

/** Used when neither the setting nor the plugin names a rate limit. */
const FALLBACK_RATE_LIMIT = { perSecond: 50, burst: 50 };

const CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];

export interface LoadedChannel {
  provider: string;
  sender: ChannelSender & Partial<WebhookParser>;
  rateLimit: { perSecond: number; burst: number };
}

/** Loads the plugin configured for each channel once, at start-up; a bad setting stops start-up. */
@Injectable()
export class ChannelRegistry implements OnApplicationShutdown {
  private readonly channels: ReadonlyMap<Channel, LoadedChannel>;

  constructor(config: AppConfig) {
    this.channels = new Map(CHANNELS.map((channel) => [channel, load(channel, config)]));
  }

  senderFor(channel: Channel): LoadedChannel {
    const loaded = this.channels.get(channel);
    if (!loaded) throw new AppError('internal', `no plugin is loaded for ${channel}`);
    return loaded;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.channels.values()].map(async (c) => c.sender.close?.()));
  }
}

function settingNameOf(channel: Channel): string {
  switch (channel) {
    case 'email':
      return 'EMAIL_PROVIDER';
    case 'sms':
      return 'SMS_PROVIDER';
    case 'push':
      return 'PUSH_PROVIDER';
  }
}

/** How a package is loaded by name: Node's `require`, or one rooted elsewhere (`createRequire`). */
export type PackageLoader = (name: string) => unknown;

/**
 * Loads the plugin a channel's setting names (built in, or an installed npm package) with the
 * channel's settings plus PUBLIC_URL, validated by the plugin's schema.
 */
export function load(
  channel: Channel,
  config: AppConfig,
  loader: PackageLoader = defaultLoader,
): LoadedChannel {
  const settings = { ...config.channels[channel], publicUrl: config.publicUrl };
  const name = settings.provider;
  const plugin = BUILT_IN_PLUGINS[name]?.(channel) ?? loadPackage(name, channel, loader);
  if (plugin.channel !== channel) {
    throw AppError.validation(
      `${settingNameOf(channel)}=${name} is a ${plugin.channel} plugin, not a ${channel} one`,
      [{ path: settingNameOf(channel), message: `must name a ${channel} plugin` }],
    );
  }
  const parsed = plugin.settingsSchema.safeParse(settings);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: `${settingNameOf(channel)}.${i.path.join('.')}`,
      message: i.message,
    }));
    throw AppError.validation(
      `the ${name} plugin rejected its settings: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  }
  const rateSetting = settings.rateLimit;
  const rateLimit =
    rateSetting === undefined
      ? (plugin.defaultRateLimit ?? FALLBACK_RATE_LIMIT)
      : parseRateLimit(rateSetting);
  const rateName = `${channel.toUpperCase()}_RATE_LIMIT`;
  if (!rateLimit)
    throw AppError.validation(
      `${rateName}=${rateSetting ?? ''} must be messages per second, or perSecond/burst (50 or 50/100)`,
      [{ path: rateName, message: 'must be perSecond or perSecond/burst' }],
    );
  return { provider: name, sender: plugin.create(parsed.data), rateLimit };
}

/** A channel team's plugin: an installed npm package whose default (or `plugin`) export is a ChannelPlugin. */
function loadPackage(name: string, channel: Channel, loader: PackageLoader): ChannelPlugin {
  let loaded: unknown;
  try {
    loaded = loader(name);
  } catch (error) {
    const builtIns = Object.keys(BUILT_IN_PLUGINS).join(', ');
    throw AppError.validation(
      `${settingNameOf(channel)}=${name}: no such channel plugin (built in: ${builtIns}; or an installed npm package): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      [{ path: settingNameOf(channel), message: `names no channel plugin` }],
    );
  }
  const candidates =
    typeof loaded === 'object' && loaded !== null
      ? [Reflect.get(loaded, 'default'), Reflect.get(loaded, 'plugin')]
      : [];
  const plugin = candidates.find(isChannelPlugin);
  if (!plugin) {
    throw AppError.validation(
      `${settingNameOf(channel)}=${name}: the package does not export a channel plugin as default or plugin`,
      [{ path: settingNameOf(channel), message: 'names a package that is not a channel plugin' }],
    );
  }
  return plugin;
}

function defaultLoader(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plugins are named at run time by configuration
  return require(name);
}

function isChannelPlugin(value: unknown): value is ChannelPlugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'name') === 'string' &&
    typeof Reflect.get(value, 'channel') === 'string' &&
    typeof Reflect.get(value, 'create') === 'function' &&
    typeof Reflect.get(value, 'settingsSchema') === 'object'
  );
}
