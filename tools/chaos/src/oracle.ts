import { findFreePort } from '@mmp/persistence';
import { moveClocks } from './clock';
import { applyConsent, postBatch, type Deployment, type Faults, type Rejections } from './deployment';
import { ProviderFakes } from './fakes';
import type { ConsentChange, EventSequence } from './history';
import { forEachLimited } from './http';
import { ServiceProcess } from './processes';
import { metricsProgress, waitUntilQuiet } from './quiescence';
import type { RunSettings } from './settings';

/**
 * The oracle: the whole platform in one process (apps/platform, as `npm start` runs it) on the
 * in-process bus, every event posted alone, in order per customer, and no faults.
 */
export class OracleDeployment implements Deployment {
  readonly name = 'oracle';
  readonly rejections: Rejections = { count: 0, first: [] };

  private constructor(
    readonly fakes: ProviderFakes,
    private readonly platform: ServiceProcess,
    private readonly settings: RunSettings,
  ) {}

  static async start(settings: RunSettings, databaseUrl: string): Promise<OracleDeployment> {
    const fakes = await ProviderFakes.start();
    const platform = new ServiceProcess('platform', 'platform', await findFreePort(), {
      ...settings.serviceEnvironment,
      ...fakes.environment(),
      DATABASE_URL: databaseUrl,
    });
    try {
      await platform.start(settings.startTimeoutMs);
    } catch (error) {
      await fakes.stop();
      throw error;
    }
    return new OracleDeployment(fakes, platform, settings);
  }

  url(): string {
    return this.platform.url;
  }

  async postEvents(_stage: number, sequences: readonly EventSequence[]): Promise<void> {
    // Batches of one; customers side by side, each customer's events one after the other.
    await forEachLimited(sequences, 16, async (sequence) => {
      for (const event of sequence.events) await postBatch(() => this.platform.url, [event], this.rejections);
    });
  }

  async applyConsent(changes: readonly ConsentChange[]): Promise<void> {
    await applyConsent(() => this.platform.url, changes);
  }

  async moveClock(now: Date): Promise<void> {
    await moveClocks([this.platform], now);
  }

  async beforeStage(): Promise<void> {}

  async endFaults(): Promise<void> {}

  async settle(what: string): Promise<void> {
    await waitUntilQuiet(
      async () => {
        const progress = await metricsProgress(this.platform.url);
        return { lag: progress.lag, fingerprint: `${progress.fingerprint}|calls:${this.fakes.total()}` };
      },
      { quietMs: this.settings.quietMs, timeoutMs: this.settings.settleTimeoutMs, what: `oracle ${what}` },
    );
  }

  faults(): Faults {
    return { kills: 0, killsByApp: {}, survived: 0, log: [] };
  }

  async stop(): Promise<void> {
    await this.platform.stop();
    await this.fakes.stop();
  }
}
