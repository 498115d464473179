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
});
