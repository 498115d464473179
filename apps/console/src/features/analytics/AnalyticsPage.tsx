import { api } from '../../api/client';
import type { JourneyDefinition } from '../../api/types';
import { href } from '../../app/route';
import { Status } from '../../app/Status';
import { useApi } from '../../app/use-api';
import { storedApiKey } from '../../auth/session';

interface JourneyReport {
  journeyKey: string;
  entered: number;
  holdout: number;
  sent: number;
  opened: number;
  clicked: number;
  conversions: { treatment: number; holdout: number };
  lift: number | null;
  liftInterval: [number, number] | null;
}

const points = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)} pts`);

/**
 * Journey results: the headline figures from the analytics API (the funnel in customers), and the
 * analytics service's dashboard with its charts (funnel, lift, follow-up variants compared among
 * those who reached the step, volume), embedded with this tab's key so it shows at once.
 */
export function AnalyticsPage({ journeyKey }: { journeyKey: string | undefined }) {
  const journeys = useApi(() => api<{ items: JourneyDefinition[] }>('/v1/journeys'), []);
  const chosen = journeyKey ?? journeys.data?.items[0]?.key;
  const report = useApi(
    () =>
      chosen
        ? api<JourneyReport>(`/v1/analytics/journeys/${encodeURIComponent(chosen)}`)
        : Promise.resolve(undefined),
    [chosen],
  );
  const fragment = new URLSearchParams({ key: storedApiKey() ?? '', journey: chosen ?? '' });
  return (
    <section>
      <h1>Analytics</h1>
      <Status loaded={journeys} />
      <nav aria-label="Journeys" className="row">
        {journeys.data?.items.map((journey) => (
          <a
            key={journey.key}
            href={href('analytics', journey.key)}
            aria-current={journey.key === chosen ? 'page' : undefined}
          >
            {journey.key}
          </a>
        ))}
      </nav>
      <Status loaded={report} />
      {report.data && (
        <dl className="figures">
          {(
            [
              ['entered', report.data.entered],
              ['holdout', report.data.holdout],
              ['customers sent', report.data.sent],
              ['opened', report.data.opened],
              ['clicked', report.data.clicked],
              ['converted (treatment)', report.data.conversions.treatment],
              ['converted (holdout)', report.data.conversions.holdout],
              ['lift', points(report.data.lift)],
              [
                'lift 95% interval',
                report.data.liftInterval
                  ? `${points(report.data.liftInterval[0])} … ${points(report.data.liftInterval[1])}`
                  : '–',
              ],
            ] as const
          ).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {chosen && (
        <iframe
          title={`Analytics dashboard of ${chosen}`}
          className="dashboard-frame"
          src={`dashboard#${fragment.toString()}`}
        />
      )}
    </section>
  );
}
