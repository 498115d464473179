import { PROCESS_LOG_DIR } from './processes';
import type { ChaosReport } from './run';

const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

/** The run's figures, one per line, then the first differences. */
export function formatReport(report: ChaosReport): string {
  const calls = (c: { email: number; sms: number; push: number }) =>
    `${c.email + c.sms + c.push} (email ${c.email}, sms ${c.sms}, push ${c.push})`;
  const lines = [
    `chaos run, seed ${report.seed}: ${report.events} events (${report.duplicatesInHistory} duplicates) over ${report.customers} customers and ${report.profiles - report.customers} visitors, ${report.consentChanges} consent changes, ${report.clockMoves} clock moves`,
    `provider calls:       chaos ${calls(report.providerCalls.chaos)}, oracle ${calls(report.providerCalls.oracle)}`,
    `messages:             chaos ${report.messages.chaos}, oracle ${report.messages.oracle}`,
    `milestones reached:   chaos ${report.occurrences.chaos}, oracle ${report.occurrences.oracle}`,
    `duplicates sent:      ${report.duplicatesSent}`,
    `missing:              ${report.missing}`,
    `lost at hand-over:    ${report.lostAtHandover} of at most ${report.handoverBound} (handed over as delivery was killed, no provider call: recorded failed, never resent)`,
    `unwanted:             ${report.unwanted.chaos} (oracle ${report.unwanted.oracle})`,
    `mismatched decisions: ${report.mismatchedDecisions}`,
    `milestone diffs:      ${report.milestoneDifferences}`,
    `outcome unknown:      ${report.outcomeUnknown} (a crash between the provider call and its record: sent once, recorded failed)`,
    `events rejected:      chaos ${report.rejected.chaos.count}, oracle ${report.rejected.oracle.count}`,
    `kills survived:       ${report.killsSurvived} of ${report.kills}`,
    `lost to retention:    ${report.offsetsLostToRetention} records deleted unread by the mock's retention${report.offsetsLostToRetention > 0 ? ' (the run is void: a consumer lagged more than a partition keeps)' : ''}`,
    `wall time:            ${seconds(report.wallTimeMs.total)} (replay: chaos ${seconds(report.wallTimeMs.chaos)}, oracle ${seconds(report.wallTimeMs.oracle)})`,
    `process logs:         ${PROCESS_LOG_DIR}`,
    report.ok
      ? 'OK: the same messages and milestones as the oracle'
      : 'DIFFERENT from the oracle; first differences:',
    ...(report.ok
      ? []
      : [
          `  by kind: ${Object.entries(report.differencesByKind)
            .sort(([, a], [, b]) => b - a)
            .map(([kind, count]) => `${kind} ${count}`)
            .join(', ')}`,
        ]),
    ...report.differences.map((d) => `  - ${d}`),
    ...[...report.rejected.chaos.first, ...report.rejected.oracle.first]
      .slice(0, 3)
      .map((r) => `  rejected: ${r}`),
  ];
  return lines.join('\n');
}
