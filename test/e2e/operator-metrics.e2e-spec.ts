import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sandboxOutbox } from '@mmp/channel-sandbox';
import { eventually } from '../support';
import { api, orderPathEvents } from './order-events';
import { usePlatform } from './platform';

/** The value of the one sample of `metric` whose labels include `labels`. */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  const line = text
    .split('\n')
    .find((each) => each.startsWith(`${metric}{`) && wanted.every((label) => each.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const root = join(__dirname, '..', '..');

/** Every metric name the shipped dashboard and alert rules query (`up` is Prometheus's own). */
function queriedMetricNames(): string[] {
  const dashboard = JSON.parse(readFileSync(join(root, 'ops/grafana/dashboards/platform.json'), 'utf8'));
  const alerts = parse(readFileSync(join(root, 'ops/prometheus/alerts.yml'), 'utf8'));
  const expressions: string[] = [
    ...dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) => panel.targets.map((t) => t.expr)),
    ...alerts.groups.flatMap((group: { rules: { expr: string }[] }) => group.rules.map((rule) => rule.expr)),
  ];
  const names = expressions.flatMap(
    (expr) => expr.match(/\b[a-z_]+_(?:total|seconds|messages|due|bucket)\b/g) ?? [],
  );
  return [...new Set(names)].map((name) => name.replace(/_bucket$/, '')).sort();
}

/**
 * What an operator scrapes from the whole platform (all six services in one process): the page
 * passes `promtool check metrics` (Debian's `prometheus` package; `npm test` installs it), and
 * carries the lag, provider, retry, schedule and outbox metrics the README's alerts are set on.
 */
describe('GET /metrics, as an operator scrapes it', () => {
  const platform = usePlatform();

  async function scrape(): Promise<string> {
    const response = await fetch(`${platform.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('passes promtool check metrics once the order path has run', async () => {
    const customerId = 'c-metrics-1';
    await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    await eventually(async () => expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1));

    const checked = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });

    expect(checked.error?.message ?? '').toBe('');
    expect({ status: checked.status, problems: `${checked.stdout}${checked.stderr}` }).toEqual({
      status: 0,
      problems: '',
    });
  });

  it("shows each group's lag, the provider handovers, the retry queue, the schedule backlogs and the outbox ages", async () => {
    const customerId = 'c-metrics-2';
    await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    await eventually(async () => expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1));
    await platform.bus.whenIdle();
    // A committed batch whose publish never happened (a crash between the two), 90 s ago.
    const db = await platform.connect();
    await db.query(
      `INSERT INTO ingestion.unpublished_batches (event_ids, created_at) VALUES ($1, now() - interval '90 seconds')`,
      [['e-stranded']],
    );

    const text = await scrape();

    for (const group of ['milestones', 'journeys', 'delivery', 'consent', 'analytics']) {
      expect({
        group,
        lag: sample(text, 'bus_consumer_lag_messages', { topic: 'customer.events.v1', group }),
      }).toEqual({
        group,
        lag: 0,
      });
    }
    expect(
      sample(text, 'delivery_provider_messages_total', {
        channel: 'email',
        provider: 'sandbox',
        outcome: 'sent',
      }),
    ).toBeGreaterThanOrEqual(2);
    for (const channel of ['email', 'sms', 'push']) {
      expect(sample(text, 'delivery_retry_queue_messages', { channel })).toBe(0);
    }
    expect(sample(text, 'schedule_backlog_due', { schedule: 'milestones.schedule' })).toBe(0);
    expect(sample(text, 'schedule_backlog_due', { schedule: 'journeys.waits' })).toBe(0);
    expect(
      sample(text, 'outbox_oldest_pending_age_seconds', { outbox: 'ingestion.unpublished_batches' }),
    ).toBeGreaterThanOrEqual(90);
    for (const outbox of [
      'milestones.occurrences',
      'journeys.outbox',
      'journeys.instances',
      'delivery.status_outbox',
      'delivery.dead_letters',
      'delivery.unregistered_push_tokens',
      'consent.changes',
    ]) {
      expect({ outbox, age: sample(text, 'outbox_oldest_pending_age_seconds', { outbox }) }).toEqual({
        outbox,
        age: 0,
      });
    }
  });

  it('carries every metric the shipped dashboard and alert rules query', async () => {
    const text = await scrape();
    const described = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    // The Kafka bus's offset-reset counters exist only on Kafka; this platform runs the in-process bus.
    const onKafkaOnly = ['kafka_consumer_offsets_lost_total'];

    const queried = queriedMetricNames().filter((name) => !onKafkaOnly.includes(name));

    expect(queried.length).toBeGreaterThan(10);
    expect(
      queried.filter((name) => !described.has(name.replace(/_total$/, '')) && !described.has(name)),
    ).toEqual([]);
  });
});
