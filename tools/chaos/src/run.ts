import { HANDOVER_CHUNK } from '@mmp/delivery-service';
import { createTestDatabase, type TestDatabase } from '@mmp/test-harness';
import { ClusterDeployment } from './cluster';
import type { Deployment, Rejections } from './deployment';
import { generateHistory, gridStart, type History } from './history';
import { OracleDeployment } from './oracle';
import { offsetsLostToRetention } from './processes';
import { compareOutcomes, readOutcome, type Comparison } from './outcome';
import { runSettings, type RunSettings } from './settings';

export interface ChaosOptions {
  seed: number;
  /** At least this many events, duplicates included. */
  events: number;
  customers: number;
  /** Event phases (each followed by consent changes and clock moves). */
  phases: number;
  /** At most this many kills (unbounded unless given). */
  maxKills?: number;
  /** Mean time between kills. */
  killEveryMs?: number;
  /** The sandbox time of the first stage; unless given, the first grid point 3 h from now. */
  startsAt?: Date;
  /** A Postgres server on which the run creates (and drops) one database per deployment. */
  postgresUrl: string;
  brokers: readonly string[];
  log?: (line: string) => void;
}

export interface ChaosReport extends Comparison {
  seed: number;
  events: number;
  duplicatesInHistory: number;
  customers: number;
  profiles: number;
  consentChanges: number;
  clockMoves: number;
  stages: number;
  kills: number;
  /** At most what delivery had handed over at its kills (HANDOVER_CHUNK each) may be lost at hand-over. */
  handoverBound: number;
  killsSurvived: number;
  killLog: string[];
  rejected: { chaos: Rejections; oracle: Rejections };
  wallTimeMs: { total: number; chaos: number; oracle: number };
  /** Records a consumer found deleted unread by the mock's retention: a run with any is void. */
  offsetsLostToRetention: number;
  /** No duplicate, nothing missing (beyond the hand-over bound) or unwanted, every decision and occurrence the oracle's. */
  ok: boolean;
}

/**
 * The chaos run: one seeded history replayed into the chaos cluster (nine processes on Kafka,
 * batches of every size, SIGKILLs) and into the oracle (one process, batches of one, no
 * faults), side by side, then every message decision and milestone occurrence compared.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = Date.now();
  const history = generateHistory({
    seed: options.seed,
    events: options.events,
    customers: options.customers,
    phases: options.phases,
    startsAt: options.startsAt ?? gridStart(new Date()),
  });
  log(
    `history ${options.seed}: ${history.eventCount} events (${history.duplicateCount} duplicates) over ${history.customerCount} customers, ${history.consentChangeCount} consent changes, ${history.clockMoves} clock moves, ${history.stages.length} stages`,
  );
  const settings = runSettings({
    seed: options.seed,
    ...(options.maxKills === undefined ? {} : { maxKills: options.maxKills }),
    ...(options.killEveryMs === undefined ? {} : { killEveryMs: options.killEveryMs }),
  });

  const databases: TestDatabase[] = [];
  const deployments: Deployment[] = [];
  try {
    const [chaosDb, oracleDb] = await Promise.all([
      createTestDatabase(options.postgresUrl),
      createTestDatabase(options.postgresUrl),
    ]);
    databases.push(chaosDb, oracleDb);
    log('starting the chaos cluster (9 processes) and the oracle (1 process)');
    const [chaos, oracle] = await Promise.all([
      ClusterDeployment.start(settings, { databaseUrl: chaosDb.url, brokers: options.brokers }, (line) =>
        log(`chaos: ${line}`),
      ),
      OracleDeployment.start(settings, oracleDb.url),
    ]);
    deployments.push(chaos, oracle);
    log(`started in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; replaying`);

    const [chaosMs, oracleMs] = await Promise.all([
      replay(history, chaos, settings, log),
      replay(history, oracle, settings, log),
    ]);
    const [chaosOutcome, oracleOutcome] = await Promise.all([
      readOutcome(chaos, history.profileIds),
      readOutcome(oracle, history.profileIds),
    ]);
    const comparison = compareOutcomes(history, chaosOutcome, oracleOutcome);
    const faults = chaos.faults();
    const lostToRetention = offsetsLostToRetention();
    const ok =
      lostToRetention === 0 &&
      comparison.duplicatesSent === 0 &&
      comparison.missing === 0 &&
      comparison.lostAtHandover <= HANDOVER_CHUNK * (faults.killsByApp['delivery'] ?? 0) &&
      comparison.unwanted.chaos === 0 &&
      comparison.mismatchedDecisions === 0 &&
      comparison.milestoneDifferences === 0 &&
      faults.survived === faults.kills;
    return {
      ...comparison,
      seed: options.seed,
      events: history.eventCount,
      duplicatesInHistory: history.duplicateCount,
      customers: history.customerCount,
      profiles: history.profileIds.length,
      consentChanges: history.consentChangeCount,
      clockMoves: history.clockMoves,
      stages: history.stages.length,
      kills: faults.kills,
      handoverBound: HANDOVER_CHUNK * (faults.killsByApp['delivery'] ?? 0),
      killsSurvived: faults.survived,
      killLog: faults.log,
      rejected: { chaos: chaos.rejections, oracle: oracle.rejections },
      wallTimeMs: { total: Date.now() - startedAt, chaos: chaosMs, oracle: oracleMs },
      offsetsLostToRetention: lostToRetention,
      ok,
    };
  } finally {
    await Promise.allSettled(deployments.map((d) => d.stop()));
    await Promise.allSettled(databases.map((d) => d.drop()));
  }
}

/** Replays every stage and waits for it to settle; answers the time it took. */
async function replay(
  history: History,
  deployment: Deployment & { rejections: Rejections },
  settings: RunSettings,
  log: (line: string) => void,
): Promise<number> {
  const startedAt = Date.now();
  for (const [index, stage] of history.stages.entries()) {
    const stageStartedAt = Date.now();
    await deployment.beforeStage(stage.kind);
    switch (stage.kind) {
      case 'clock':
        await deployment.moveClock(new Date(stage.now));
        break;
      case 'events':
        await deployment.postEvents(index, stage.sequences);
        break;
      case 'consent':
        await deployment.applyConsent(stage.changes);
        break;
    }
    const label = `stage ${index + 1}/${history.stages.length} (${describeStage(stage)})`;
    await deployment.settle(label);
    deployment.fakes.markStage(index);
    if (stage.kind !== 'clock' || settings.quietMs > 0) {
      log(`${deployment.name}: ${label} settled in ${((Date.now() - stageStartedAt) / 1000).toFixed(1)} s`);
    }
  }
  await deployment.endFaults();
  return Date.now() - startedAt;
}

function describeStage(stage: History['stages'][number]): string {
  switch (stage.kind) {
    case 'clock':
      return `clock ${stage.now}`;
    case 'events':
      return `phase ${stage.phase}: ${stage.sequences.reduce((n, s) => n + s.events.length, 0)} events`;
    case 'consent':
      return `${stage.changes.length} consent changes`;
  }
}
