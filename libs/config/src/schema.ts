import { join, resolve } from 'node:path';
import type { CrossCheckIssue, VariableValues } from './section.js';
import {
  cidrList,
  flag,
  hostPortList,
  integer,
  oneOf,
  optionalText,
  port,
  postgresSettings,
  text,
  url,
} from './variables.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * Every variable shared by all services, keyed by its environment name. Defaults that depend on other
 * variables (adapters, BLOB_DIR) are left undefined here and decided in buildBaseConfig.
 */
export const baseVariables = {
  LOG_LEVEL: oneOf(logLevels).default('info'),
  CORREO_DATA_DIR: text('./.data'),

  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  EMBEDDED_POSTGRES_PORT: port({ default: 15432 }),
  // How long a pooled PostgreSQL connection may sit idle before the pool closes it. pg's own default (10 s)
  // made every lull of a few seconds cost a new connection (a backend fork, SCRAM, statements parsed and
  // catalogues cached again) on the next burst.
  DATABASE_POOL_IDLE_MS: integer({ min: 0, max: 3600000, default: 300000 }),
  // Extra server settings of the embedded PostgreSQL (tuning, measurement); docs/configuration.md.
  EMBEDDED_POSTGRES_SETTINGS: postgresSettings(),

  BUS_ADAPTER: oneOf(['kafka', 'postgres']).optional(),
  BUS_MAX_ATTEMPTS: integer({ min: 1, max: 1000, default: 5 }),
  KAFKA_BROKERS: hostPortList().optional(),
  KAFKA_CLIENT_ID: text('correo'),
  KAFKA_TOPIC_PARTITIONS: integer({ min: 1, max: 10000, default: 6 }),
  KAFKA_REPLICATION_FACTOR: integer({ min: 1, max: 100, default: 1 }),
  KAFKA_CONNECTION_TIMEOUT_MS: integer({ min: 1, max: 600000, default: 5000 }),

  BLOB_ADAPTER: oneOf(['s3', 'fs']).optional(),
  BLOB_DIR: optionalText(),
  S3_ENDPOINT: url(['http', 'https']).optional(),
  S3_REGION: text('us-east-1'),
  S3_BUCKET: text('correo'),
  S3_ACCESS_KEY_ID: optionalText(),
  S3_SECRET_ACCESS_KEY: optionalText(),
  S3_FORCE_PATH_STYLE: flag(true),
  S3_SOCKET_TIMEOUT_MS: integer({ min: 100, max: 600000, default: 30000 }),

  // The operator's switch for test setups: pending (unverified) domains receive and send mail too.
  ALLOW_UNVERIFIED_DOMAINS: flag(false),
  // Directory answers on the mail path (RCPT, delivery) kept this long; changes drop them at once.
  DIRECTORY_CACHE_TTL_MS: integer({ min: 0, max: 3600000, default: 5000 }),
  DIRECTORY_CACHE_MAX_ENTRIES: integer({ min: 1, max: 10000000, default: 10000 }),

  // Load balancers that open each mail connection with a PROXY header naming the client (SMTP, IMAP, POP3).
  PROXY_TRUSTED_CIDRS: cidrList(),

  REDIS_URL: url(['redis', 'rediss']).optional(),
  NOTIFY_ADAPTER: oneOf(['redis', 'memory']).optional(),
  LIMITS_ADAPTER: oneOf(['redis', 'memory']).optional(),
  // Namespaces every limits key in Redis: deployments (or test runs) sharing one Redis stay apart.
  LIMITS_KEY_PREFIX: text('correo:limits:'),
  // Connection caps across pods (per IP, per user): a killed pod's connections stop counting this long
  // after its last heartbeat; an accept waits this long for the limits backend, then admits (fail-open).
  CONNECTION_LEASE_TTL_MS: integer({ min: 1000, max: 3600000, default: 60000 }),
  CONNECTION_LEASE_TIMEOUT_MS: integer({ min: 10, max: 60000, default: 500 }),
  // Messages to remote recipients an account / a tenant may send per hour, across pods: submission
  // (smtp-ingress, at RCPT) and Sieve redirects and vacation replies (mda). 0: no limit.
  MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR: integer({ min: 0, max: 100_000_000, default: 1000 }),
  MAIL_OUTBOUND_PER_TENANT_PER_HOUR: integer({ min: 0, max: 100_000_000, default: 10_000 }),

  METRICS_HOST: text('0.0.0.0'),
  METRICS_PORT: port({ default: 9464, allowZero: true }),
  READINESS_TIMEOUT_MS: integer({ min: 1, max: 600000, default: 2000 }),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']).optional(),
  OTEL_SERVICE_NAME: optionalText(),
};

export type BaseVariables = typeof baseVariables;

// URLs may carry passwords (postgres://user:pass@host), so they are secrets as a whole.
export const baseSecrets: readonly (keyof BaseVariables)[] = [
  'DATABASE_URL',
  'REDIS_URL',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
];

export type BusAdapter = 'kafka' | 'postgres';
export type BlobAdapter = 's3' | 'fs';
export type SharedStateAdapter = 'redis' | 'memory';

export interface Config {
  logLevel: LogLevel;
  /** Absolute. */
  dataDir: string;
  database: {
    /** Absent: the all-in-one starts an embedded PostgreSQL. */
    url: string | undefined;
    embeddedPort: number;
    /** A pooled connection idle this long is closed; 0: never. */
    poolIdleMs: number;
    /** Extra server settings of the embedded PostgreSQL, in the order given (EMBEDDED_POSTGRES_SETTINGS). */
    embeddedSettings: { name: string; value: string }[];
  };
  bus: {
    adapter: BusAdapter;
    maxAttempts: number;
    kafka: {
      brokers: string[];
      clientId: string;
      topicPartitions: number;
      replicationFactor: number;
      connectionTimeoutMs: number;
    };
  };
  blobs: {
    adapter: BlobAdapter;
    /** Absolute. */
    dir: string;
    s3: {
      endpoint: string | undefined;
      region: string;
      bucket: string;
      accessKeyId: string | undefined;
      secretAccessKey: string | undefined;
      forcePathStyle: boolean;
      /** A request whose connection is idle this long fails (and is retried as a backend failure). */
      socketTimeoutMs: number;
    };
  };
  redis: { url: string | undefined };
  directory: { allowUnverifiedDomains: boolean; cache: { ttlMs: number; maxEntries: number } };
  /** Peers whose connections start with a PROXY header (v1 or v2) naming the real client. */
  proxy: { trustedCidrs: string[] };
  notify: { adapter: SharedStateAdapter };
  limits: {
    adapter: SharedStateAdapter;
    keyPrefix: string;
    leases: { ttlMs: number; timeoutMs: number };
    /** MAIL_OUTBOUND_*: the hourly outbound limits of an account and a tenant (OutboundQuota). */
    outbound: { perAccountPerHour: number; perTenantPerHour: number };
  };
  metrics: { host: string; port: number };
  readiness: { timeoutMs: number };
  telemetry: { otlpEndpoint: string | undefined; serviceName: string | undefined };
}

type Parsed = Partial<VariableValues<BaseVariables>>;

function busAdapter(vars: Parsed): BusAdapter {
  return vars.BUS_ADAPTER ?? (vars.KAFKA_BROKERS ? 'kafka' : 'postgres');
}

function blobAdapter(vars: Parsed): BlobAdapter {
  return vars.BLOB_ADAPTER ?? (vars.S3_ENDPOINT ? 's3' : 'fs');
}

function sharedStateAdapter(chosen: SharedStateAdapter | undefined, vars: Parsed): SharedStateAdapter {
  return chosen ?? (vars.REDIS_URL ? 'redis' : 'memory');
}

/**
 * Rules across variables. `raw` tells "unset" apart from "set but invalid", so a variable that failed to
 * parse is not blamed twice.
 */
export function checkBaseVariables(
  vars: Parsed,
  raw: (name: string) => string | undefined,
): CrossCheckIssue[] {
  const issues: CrossCheckIssue[] = [];
  const missing = (name: keyof BaseVariables) => raw(name) === undefined;

  if (vars.BUS_ADAPTER === 'kafka' && missing('KAFKA_BROKERS')) {
    issues.push({
      variable: 'KAFKA_BROKERS',
      expected: 'a comma-separated list of host:port because BUS_ADAPTER is kafka',
    });
  }

  const blobAdapterParsed = missing('BLOB_ADAPTER') || vars.BLOB_ADAPTER !== undefined;
  if (blobAdapterParsed) {
    const s3 = blobAdapter(vars) === 's3';
    const endpointGiven = !missing('S3_ENDPOINT');
    const keyGiven = !missing('S3_ACCESS_KEY_ID');
    const secretGiven = !missing('S3_SECRET_ACCESS_KEY');
    // Without an endpoint the AWS SDK may find credentials on its own (instance role); with one (MinIO,
    // Ceph) there is nowhere else to find them. A lone half of the pair is always a mistake.
    const required = (s3 && endpointGiven) || keyGiven || secretGiven;
    if (s3 && required && !keyGiven) {
      issues.push({ variable: 'S3_ACCESS_KEY_ID', expected: 'an access key id for the S3 endpoint' });
    }
    if (s3 && required && !secretGiven) {
      issues.push({ variable: 'S3_SECRET_ACCESS_KEY', expected: 'a secret access key for the S3 endpoint' });
    }
  }

  for (const name of ['NOTIFY_ADAPTER', 'LIMITS_ADAPTER'] as const) {
    if (vars[name] === 'redis' && missing('REDIS_URL')) {
      issues.push({
        variable: 'REDIS_URL',
        expected: `a redis:// or rediss:// URL because ${name} is redis`,
      });
    }
  }
  return issues;
}

export function buildBaseConfig(vars: VariableValues<BaseVariables>): Config {
  const dataDir = resolve(vars.CORREO_DATA_DIR);
  return {
    logLevel: vars.LOG_LEVEL,
    dataDir,
    database: {
      url: vars.DATABASE_URL,
      embeddedPort: vars.EMBEDDED_POSTGRES_PORT,
      poolIdleMs: vars.DATABASE_POOL_IDLE_MS,
      embeddedSettings: vars.EMBEDDED_POSTGRES_SETTINGS,
    },
    bus: {
      adapter: busAdapter(vars),
      maxAttempts: vars.BUS_MAX_ATTEMPTS,
      kafka: {
        brokers: vars.KAFKA_BROKERS ?? [],
        clientId: vars.KAFKA_CLIENT_ID,
        topicPartitions: vars.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: vars.KAFKA_REPLICATION_FACTOR,
        connectionTimeoutMs: vars.KAFKA_CONNECTION_TIMEOUT_MS,
      },
    },
    blobs: {
      adapter: blobAdapter(vars),
      dir: vars.BLOB_DIR ? resolve(vars.BLOB_DIR) : join(dataDir, 'blobs'),
      s3: {
        endpoint: vars.S3_ENDPOINT,
        region: vars.S3_REGION,
        bucket: vars.S3_BUCKET,
        accessKeyId: vars.S3_ACCESS_KEY_ID,
        secretAccessKey: vars.S3_SECRET_ACCESS_KEY,
        forcePathStyle: vars.S3_FORCE_PATH_STYLE,
        socketTimeoutMs: vars.S3_SOCKET_TIMEOUT_MS,
      },
    },
    redis: { url: vars.REDIS_URL },
    directory: {
      allowUnverifiedDomains: vars.ALLOW_UNVERIFIED_DOMAINS,
      cache: { ttlMs: vars.DIRECTORY_CACHE_TTL_MS, maxEntries: vars.DIRECTORY_CACHE_MAX_ENTRIES },
    },
    proxy: { trustedCidrs: vars.PROXY_TRUSTED_CIDRS },
    notify: { adapter: sharedStateAdapter(vars.NOTIFY_ADAPTER, vars) },
    limits: {
      adapter: sharedStateAdapter(vars.LIMITS_ADAPTER, vars),
      keyPrefix: vars.LIMITS_KEY_PREFIX,
      leases: { ttlMs: vars.CONNECTION_LEASE_TTL_MS, timeoutMs: vars.CONNECTION_LEASE_TIMEOUT_MS },
      outbound: {
        perAccountPerHour: vars.MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR,
        perTenantPerHour: vars.MAIL_OUTBOUND_PER_TENANT_PER_HOUR,
      },
    },
    metrics: { host: vars.METRICS_HOST, port: vars.METRICS_PORT },
    readiness: { timeoutMs: vars.READINESS_TIMEOUT_MS },
    telemetry: { otlpEndpoint: vars.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: vars.OTEL_SERVICE_NAME },
  };
}
