import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// No Docker engine runs where these tests run, so this holds docker-compose.yml to the apps it
// must start; `docker compose up --build` is the real test on a machine with Docker.
const root = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const SERVICES = ['ingestion', 'milestones', 'journeys', 'delivery', 'consent', 'analytics'];

describe('docker-compose.yml', () => {
  it.each(SERVICES)('runs %s from its own app on real Kafka and Postgres', (service) => {
    const definition = compose.services[service];
    expect(definition.build.args.SERVICE).toBe(service);
    expect(existsSync(join(root, 'apps', service, 'src', 'main.ts'))).toBe(true);
    expect(definition.environment.KAFKA_BROKERS).toBe('kafka:9092');
    expect(definition.environment.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(Object.keys(definition.depends_on).sort()).toEqual(['kafka', 'postgres']);
  });

  it('runs Kafka in KRaft mode, without ZooKeeper', () => {
    expect(compose.services.zookeeper).toBeUndefined();
    expect(compose.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  });

  it('runs a Confluent schema registry on the same Kafka, for avro program sources', () => {
    const registry = compose.services['schema-registry'];
    expect(registry.image).toMatch(/^confluentinc\/cp-schema-registry:/);
    expect(registry.environment.SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS).toBe('PLAINTEXT://kafka:9092');
    expect(registry.environment.SCHEMA_REGISTRY_LISTENERS).toBe('http://0.0.0.0:8081');
  });

  it('builds images that start the service the build argument names', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('ARG SERVICE=platform');
    expect(dockerfile).toContain('apps/${SERVICE}/src/main.ts');
  });

  describe('the monitoring it starts next to the services', () => {
    const prometheusConfig = parse(readFileSync(join(root, 'ops/prometheus/prometheus.yml'), 'utf8'));
    const dashboard = JSON.parse(readFileSync(join(root, 'ops/grafana/dashboards/platform.json'), 'utf8'));

    it('has Prometheus scrape every service on the port its container listens on, with the alerts loaded', () => {
      const [job] = prometheusConfig.scrape_configs;
      expect(job.metrics_path).toBe('/metrics');
      expect(job.static_configs[0].targets).toEqual(
        SERVICES.map((service) => `${service}:${compose.services[service].environment.PORT}`),
      );
      expect(compose.services.prometheus.volumes).toContain('./ops/prometheus:/etc/prometheus:ro');
      expect(prometheusConfig.rule_files).toEqual(['alerts.yml']);
    });

    it('ships a Prometheus configuration and alert rules that promtool accepts', () => {
      const checked = spawnSync(
        'promtool',
        ['check', 'config', join(root, 'ops/prometheus/prometheus.yml')],
        {
          encoding: 'utf8',
        },
      );
      expect(checked.error?.message ?? '').toBe('');
      expect({ status: checked.status, output: checked.stdout }).toEqual({
        status: 0,
        output: expect.stringContaining('SUCCESS: 10 rules found'),
      });
    });

    it('has Grafana load the dashboard from the provisioned folder, on the provisioned Prometheus', () => {
      const datasources = parse(
        readFileSync(join(root, 'ops/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
      );
      const providers = parse(
        readFileSync(join(root, 'ops/grafana/provisioning/dashboards/platform.yml'), 'utf8'),
      );
      expect(compose.services.grafana.volumes).toEqual([
        './ops/grafana/provisioning:/etc/grafana/provisioning:ro',
        `./ops/grafana/dashboards:${providers.providers[0].options.path}:ro`,
      ]);
      expect(datasources.datasources[0]).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
      const panelSources = dashboard.panels.flatMap((panel: { targets: { datasource: { uid: string } }[] }) =>
        panel.targets.map((target) => target.datasource.uid),
      );
      expect(new Set(panelSources)).toEqual(new Set(['prometheus']));
    });
  });
});
