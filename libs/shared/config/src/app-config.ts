import { AppError } from '@mmp/errors';
import { z } from 'zod';

/**
 * The platform's settings (SPEC section 3), read from the environment once at start-up and
 * validated; everything else reads them through this typed object. Never read process.env
 * anywhere else.
 */

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .transform((value) => value === 'true' || value === '1');

const isRegExp = (value: string): boolean => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
};

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  KAFKA_BROKERS: commaList.optional(),
  KAFKA_CLIENT_ID: z.string().default('milestone-platform'),
  /**
   * Whether the Kafka producer is idempotent: `auto` is on except on librdkafka's mock cluster,
   * where kafkajs cannot start one; `false` turns it off (a broker without IdempotentWrite).
   */
  KAFKA_IDEMPOTENT_PRODUCER: z
    .enum(['auto', 'true', 'false'])
    .default('auto')
    .transform((value) => (value === 'auto' ? value : value === 'true')),
  PROGRAM_DIR: z.string().default('program'),
  API_KEYS: commaList.optional(),
  /** Write keys of the Segment-compatible API (`/v1/segment/*`, HTTP Basic); unset turns it off. */
  SEGMENT_WRITE_KEYS: commaList.optional(),
  SANDBOX: booleanFlag.default(false),
  PUBLIC_URL: z.url({ error: 'must be a URL such as https://messages.example.com' }).optional(),
  LINK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  EMAIL_PROVIDER: z.string().default('sandbox'),
  EMAIL_FROM: z.string().default('Milestones <no-reply@example.com>'),
  SES_REGION: z.string().default('us-east-1'),
  SES_ENDPOINT: z.string().optional(),
  /**
   * Which SigningCertURL an SNS message to POST /v1/webhooks/ses may name, a regular expression
   * matched against the whole URL: SNS's own https hosts unless told (tests name a loopback fake).
   */
  SNS_CERT_URL_PATTERN: z
    .string()
    .refine(isRegExp, 'must be a regular expression such as ^https://sns\\.[a-z0-9-]+\\.amazonaws\\.com/')
    .default('^https://sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/'),
  SMS_PROVIDER: z.string().default('sandbox'),
  SMS_FROM: z.string().optional(),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_API_BASE: z.string().optional(),
  PUSH_PROVIDER: z.string().default('sandbox'),
  FCM_PROJECT_ID: z.string().optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  FCM_ENDPOINT: z.string().optional(),
  /** Per-provider rate limits: `perSecond` or `perSecond/burst`; unset uses the plugin's default. */
  EMAIL_RATE_LIMIT: z.string().optional(),
  SMS_RATE_LIMIT: z.string().optional(),
  PUSH_RATE_LIMIT: z.string().optional(),
  NODE_ENV: z.string().default('development'),
  /** Where the embedded Postgres keeps its files when DATABASE_URL is unset. */
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  /** The in-process (Postgres) bus's retention by age: records older than this many hours go. */
  BUS_RETENTION_HOURS: z.coerce.number().positive().default(168),
  /** The in-process bus's retention by size: each topic partition keeps only its newest this many records. */
  BUS_RETENTION_RECORDS: z.coerce.number().int().positive().default(250_000),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
});

export type Environment = Record<string, string | undefined>;

/** The key used when API_KEYS is unset outside production, so a first run works at once. */
export const DEVELOPMENT_API_KEY = 'dev-key';
const DEVELOPMENT_LINK_SECRET = 'development-link-secret-change-me';

export class AppConfig {
  readonly port: number;
  /** Set by the environment, or by the embedded Postgres before modules are built. */
  readonly databaseUrl: string | undefined;
  /** Unset means the in-process bus. */
  readonly kafkaBrokers: readonly string[] | undefined;
  readonly kafkaClientId: string;
  /** `auto`: idempotent unless the cluster is librdkafka's mock. */
  readonly kafkaIdempotentProducer: boolean | 'auto';
  readonly programDir: string;
  readonly apiKeys: readonly string[];
  /** True when API_KEYS was unset and the development key is in use. */
  readonly usingDevelopmentApiKey: boolean;
  /** Empty when SEGMENT_WRITE_KEYS is unset: every `/v1/segment/*` call is then 401. */
  readonly segmentWriteKeys: readonly string[];
  readonly sandbox: boolean;
  readonly publicUrl: string;
  readonly linkSecret: string;
  readonly production: boolean;
  readonly embeddedPostgresDir: string;
  /** Retention of the in-process bus (unused on Kafka, whose topics have their own). */
  readonly busRetention: { readonly maxAgeMs: number; readonly maxRecordsPerPartition: number };
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  readonly channels: {
    readonly email: {
      provider: string;
      from: string;
      sesRegion: string;
      sesEndpoint: string | undefined;
      /** The SigningCertURLs of SNS messages that are trusted. */
      snsCertUrlPattern: RegExp;
      rateLimit: string | undefined;
    };
    readonly sms: {
      provider: string;
      from: string | undefined;
      twilioAccountSid: string | undefined;
      twilioAuthToken: string | undefined;
      twilioApiBase: string | undefined;
      rateLimit: string | undefined;
    };
    readonly push: {
      provider: string;
      fcmProjectId: string | undefined;
      googleApplicationCredentials: string | undefined;
      fcmEndpoint: string | undefined;
      rateLimit: string | undefined;
    };
  };

  private constructor(private readonly env: z.infer<typeof EnvSchema>) {
    this.production = env.NODE_ENV === 'production';
    this.port = env.PORT;
    this.databaseUrl = env.DATABASE_URL;
    this.kafkaBrokers = env.KAFKA_BROKERS && env.KAFKA_BROKERS.length > 0 ? env.KAFKA_BROKERS : undefined;
    this.kafkaClientId = env.KAFKA_CLIENT_ID;
    this.kafkaIdempotentProducer = env.KAFKA_IDEMPOTENT_PRODUCER;
    this.programDir = env.PROGRAM_DIR;
    this.usingDevelopmentApiKey = !env.API_KEYS || env.API_KEYS.length === 0;
    this.apiKeys = this.usingDevelopmentApiKey ? [DEVELOPMENT_API_KEY] : (env.API_KEYS ?? []);
    this.segmentWriteKeys = env.SEGMENT_WRITE_KEYS ?? [];
    this.sandbox = env.SANDBOX;
    this.publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
    this.linkSecret = env.LINK_SECRET ?? DEVELOPMENT_LINK_SECRET;
    this.embeddedPostgresDir = env.EMBEDDED_PG_DIR;
    this.busRetention = {
      maxAgeMs: env.BUS_RETENTION_HOURS * 60 * 60 * 1000,
      maxRecordsPerPartition: env.BUS_RETENTION_RECORDS,
    };
    this.logLevel = env.LOG_LEVEL;
    this.channels = {
      email: {
        provider: env.EMAIL_PROVIDER,
        from: env.EMAIL_FROM,
        sesRegion: env.SES_REGION,
        sesEndpoint: env.SES_ENDPOINT,
        snsCertUrlPattern: new RegExp(env.SNS_CERT_URL_PATTERN),
        rateLimit: env.EMAIL_RATE_LIMIT,
      },
      sms: {
        provider: env.SMS_PROVIDER,
        from: env.SMS_FROM,
        twilioAccountSid: env.TWILIO_ACCOUNT_SID,
        twilioAuthToken: env.TWILIO_AUTH_TOKEN,
        twilioApiBase: env.TWILIO_API_BASE,
        rateLimit: env.SMS_RATE_LIMIT,
      },
      push: {
        provider: env.PUSH_PROVIDER,
        fcmProjectId: env.FCM_PROJECT_ID,
        googleApplicationCredentials: env.GOOGLE_APPLICATION_CREDENTIALS,
        fcmEndpoint: env.FCM_ENDPOINT,
        rateLimit: env.PUSH_RATE_LIMIT,
      },
    };
  }

  /** Reads and validates the environment; a bad setting stops start-up with a message naming it. */
  static fromEnvironment(env: Environment): AppConfig {
    const parsed = EnvSchema.safeParse(env);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      }));
      throw AppError.validation(
        `invalid configuration: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
        details,
      );
    }
    const config = new AppConfig(parsed.data);
    if (config.production && config.usingDevelopmentApiKey) {
      throw AppError.validation('invalid configuration: API_KEYS must be set in production', [
        { path: 'API_KEYS', message: 'must be set in production' },
      ]);
    }
    if (config.production && !env.LINK_SECRET) {
      throw AppError.validation('invalid configuration: LINK_SECRET must be set in production', [
        { path: 'LINK_SECRET', message: 'must be set in production' },
      ]);
    }
    return config;
  }

  /** A copy with some settings replaced (the embedded Postgres URL, a test's port). */
  with(overrides: { databaseUrl?: string; port?: number; kafkaBrokers?: readonly string[] }): AppConfig {
    return new AppConfig({
      ...this.env,
      DATABASE_URL: overrides.databaseUrl ?? this.env.DATABASE_URL,
      PORT: overrides.port ?? this.env.PORT,
      KAFKA_BROKERS: overrides.kafkaBrokers ? [...overrides.kafkaBrokers] : this.env.KAFKA_BROKERS,
    });
  }

  /** The database URL, which must be known by the time a service opens its database. */
  requireDatabaseUrl(): string {
    if (!this.databaseUrl)
      throw AppError.unavailable('DATABASE_URL is not set and no embedded Postgres was started');
    return this.databaseUrl;
  }
}
