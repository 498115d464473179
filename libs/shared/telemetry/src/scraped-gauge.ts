import { Gauge } from 'prom-client';

/** One value of a gauge, with its labels. */
export interface GaugeSample<L extends string = string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

/** Reads the current values of a gauge, at each scrape: one cheap query, or an in-memory count. */
export type GaugeSource<L extends string = string> = () => Promise<readonly GaugeSample<L>[]>;

export interface ScrapedGaugeDefinition<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

/** A source slower than this is left out of that scrape, so one stuck database cannot hang /metrics. */
export const SCRAPE_SOURCE_TIMEOUT_MS = 2_000;

const sourcesByGauge = new Map<string, Set<GaugeSource>>();

/**
 * Adds a source to the gauge `definition.name` on prom-client's default registry, made on first
 * use. A gauge that needs a query is computed when Prometheus scrapes, not kept up to date on
 * the hot path. Several services of one process (the platform runs six) may feed the same gauge,
 * each with its own label values; a source that fails or times out is left out of that scrape
 * (its series disappear, which an `absent()` alert sees) rather than failing the whole page.
 * Returns the function that removes the source again (on module destroy: a test process builds
 * and closes many apps).
 */
export function addScrapedGaugeSource<L extends string>(
  definition: ScrapedGaugeDefinition<L>,
  source: GaugeSource<L>,
): () => void {
  let sources = sourcesByGauge.get(definition.name);
  if (!sources) {
    const created = new Set<GaugeSource>();
    sources = created;
    sourcesByGauge.set(definition.name, created);
    new Gauge<L>({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      async collect() {
        const read = await Promise.all([...created].map((each) => withinTimeout(each)));
        this.reset();
        for (const sample of read.flat()) this.set(sample.labels, sample.value);
      },
    });
  }
  const added: GaugeSource = source;
  sources.add(added);
  return () => {
    sources.delete(added);
  };
}

async function withinTimeout(source: GaugeSource): Promise<readonly GaugeSample[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<readonly GaugeSample[]>((resolve) => {
    timer = setTimeout(() => resolve([]), SCRAPE_SOURCE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([source().catch(() => []), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
