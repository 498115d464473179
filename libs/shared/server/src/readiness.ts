/**
 * What `/health/ready` asks. Each piece of infrastructure a service depends on (its database,
 * the bus) registers one check; ready means every check answers true within its time.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(check: ReadinessCheck): void {
    this.checks.set(check.name, check);
  }

  /** Runs every check; a check that throws or takes longer than `timeoutMs` counts as not ready. */
  async evaluate(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        try {
          return [c.name, await Promise.race([c.check().catch(() => false), timeout])] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, ok]) => ok), checks };
  }
}
