import { AppError } from '@mmp/errors';
import { AppConfig, DEVELOPMENT_API_KEY } from './app-config';

describe('AppConfig', () => {
  it('falls back to embedded defaults when nothing is set', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.apiKeys).toEqual([DEVELOPMENT_API_KEY]);
    expect(config.usingDevelopmentApiKey).toBe(true);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.sandbox).toBe(false);
    expect(config.channels.email.provider).toBe('sandbox');
  });

  it('reads comma lists and flags', () => {
    const config = AppConfig.fromEnvironment({
      KAFKA_BROKERS: 'a:9092, b:9092,',
      API_KEYS: 'k1,k2',
      SANDBOX: 'true',
      PUBLIC_URL: 'https://m.example.com/',
    });
    expect(config.kafkaBrokers).toEqual(['a:9092', 'b:9092']);
    expect(config.apiKeys).toEqual(['k1', 'k2']);
    expect(config.sandbox).toBe(true);
    expect(config.publicUrl).toBe('https://m.example.com');
  });

  it('makes the Kafka producer idempotent unless told (auto: except on the librdkafka mock)', () => {
    expect(AppConfig.fromEnvironment({}).kafkaIdempotentProducer).toBe('auto');
    expect(AppConfig.fromEnvironment({ KAFKA_IDEMPOTENT_PRODUCER: 'false' }).kafkaIdempotentProducer).toBe(
      false,
    );
    expect(AppConfig.fromEnvironment({ KAFKA_IDEMPOTENT_PRODUCER: 'true' }).kafkaIdempotentProducer).toBe(
      true,
    );
    expect(
      AppConfig.fromEnvironment({ KAFKA_IDEMPOTENT_PRODUCER: 'false' }).with({ port: 0 })
        .kafkaIdempotentProducer,
    ).toBe(false);
    expect(() => AppConfig.fromEnvironment({ KAFKA_IDEMPOTENT_PRODUCER: 'yes' })).toThrow(
      /KAFKA_IDEMPOTENT_PRODUCER/,
    );
  });

  it('trusts only SNS certificate URLs unless told otherwise', () => {
    const pattern = AppConfig.fromEnvironment({}).channels.email.snsCertUrlPattern;
    expect(pattern.test('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem')).toBe(true);
    expect(pattern.test('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem')).toBe(
      true,
    );
    expect(pattern.test('http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem')).toBe(false);
    expect(pattern.test('https://sns.eu-west-1.amazonaws.com.evil.example/x.pem')).toBe(false);
    const loopback = AppConfig.fromEnvironment({ SNS_CERT_URL_PATTERN: '^http://127\\.0\\.0\\.1:9/' });
    expect(loopback.channels.email.snsCertUrlPattern.test('http://127.0.0.1:9/c.pem')).toBe(true);
  });

  it("reads the in-process bus's retention: a week and 250,000 records per partition unless told", () => {
    expect(AppConfig.fromEnvironment({}).busRetention).toEqual({
      maxAgeMs: 168 * 3600_000,
      maxRecordsPerPartition: 250_000,
    });
    expect(
      AppConfig.fromEnvironment({ BUS_RETENTION_HOURS: '1.5', BUS_RETENTION_RECORDS: '1000' }).busRetention,
    ).toEqual({ maxAgeMs: 5400_000, maxRecordsPerPartition: 1000 });
    expect(() => AppConfig.fromEnvironment({ BUS_RETENTION_RECORDS: '0' })).toThrow(/BUS_RETENTION_RECORDS/);
  });

  it('names the bad setting', () => {
    expect(() => AppConfig.fromEnvironment({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => AppConfig.fromEnvironment({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL must be a postgres/,
    );
    expect(() => AppConfig.fromEnvironment({ SANDBOX: 'yes' })).toThrow(AppError);
    expect(() => AppConfig.fromEnvironment({ SNS_CERT_URL_PATTERN: '^https://(' })).toThrow(
      /SNS_CERT_URL_PATTERN/,
    );
  });

  it('refuses production without real keys and secret', () => {
    expect(() => AppConfig.fromEnvironment({ NODE_ENV: 'production' })).toThrow(/API_KEYS must be set/);
    expect(() => AppConfig.fromEnvironment({ NODE_ENV: 'production', API_KEYS: 'k' })).toThrow(/LINK_SECRET/);
  });

  it('copies with overrides and keeps the rest', () => {
    const config = AppConfig.fromEnvironment({ API_KEYS: 'k' }).with({
      databaseUrl: 'postgres://x/y',
      port: 0,
    });
    expect(config).toBeInstanceOf(AppConfig);
    expect(config.databaseUrl).toBe('postgres://x/y');
    expect(config.port).toBe(0);
    expect(config.apiKeys).toEqual(['k']);
  });
});
