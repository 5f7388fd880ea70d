import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ConfigError,
  configVariableNames,
  defineSection,
  loadConfig,
  port,
  text,
  type Env,
} from '../src/index.js';

function configErrorOf(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

describe('defaults', () => {
  test('an empty environment gives the embedded all-in-one setup', () => {
    const config = loadConfig({});
    assert.equal(config.logLevel, 'info');
    assert.equal(config.dataDir, resolve('.data'));
    assert.deepEqual(config.database, {
      url: undefined,
      embeddedPort: 15432,
      poolIdleMs: 300000,
      embeddedSettings: [],
    });
    assert.deepEqual(config.bus, {
      adapter: 'postgres',
      maxAttempts: 5,
      kafka: {
        brokers: [],
        clientId: 'correo',
        topicPartitions: 6,
        replicationFactor: 1,
        connectionTimeoutMs: 5000,
      },
    });
    assert.deepEqual(config.blobs, {
      adapter: 'fs',
      dir: join(resolve('.data'), 'blobs'),
      s3: {
        endpoint: undefined,
        region: 'us-east-1',
        bucket: 'correo',
        accessKeyId: undefined,
        secretAccessKey: undefined,
        forcePathStyle: true,
        socketTimeoutMs: 30000,
      },
    });
    assert.deepEqual(config.redis, { url: undefined });
    assert.equal(config.notify.adapter, 'memory');
    assert.equal(config.limits.adapter, 'memory');
    assert.deepEqual(config.metrics, { host: '0.0.0.0', port: 9464 });
    assert.equal(config.readiness.timeoutMs, 2000);
    assert.deepEqual(config.telemetry, { otlpEndpoint: undefined, serviceName: undefined });
  });

  test('empty and blank values count as unset', () => {
    const config = loadConfig({ LOG_LEVEL: '', METRICS_PORT: '  ', KAFKA_BROKERS: '' });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.metrics.port, 9464);
    assert.equal(config.bus.adapter, 'postgres');
  });

  test('the data directory is resolved to an absolute path and carries the blob directory', () => {
    const config = loadConfig({ CORREO_DATA_DIR: 'var/mail' });
    assert.equal(config.dataDir, resolve('var/mail'));
    assert.equal(config.blobs.dir, resolve('var/mail/blobs'));
    assert.equal(loadConfig({ BLOB_DIR: '/srv/blobs' }).blobs.dir, '/srv/blobs');
  });

  test('values are parsed into their types', () => {
    const config = loadConfig({
      LOG_LEVEL: 'DEBUG',
      METRICS_PORT: '0',
      KAFKA_TOPIC_PARTITIONS: '12',
      S3_FORCE_PATH_STYLE: 'no',
      DATABASE_URL: 'postgres://correo:pw@db:5432/correo',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'mda',
    });
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.metrics.port, 0);
    assert.equal(config.bus.kafka.topicPartitions, 12);
    assert.equal(config.blobs.s3.forcePathStyle, false);
    assert.equal(config.database.url, 'postgres://correo:pw@db:5432/correo');
    assert.equal(config.telemetry.otlpEndpoint, 'http://collector:4318');
    assert.equal(config.telemetry.serviceName, 'mda');
  });

  test('booleans accept true/false/1/0/yes/no in any case', () => {
    for (const [given, expected] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['No', false],
    ] as const) {
      assert.equal(loadConfig({ S3_FORCE_PATH_STYLE: given }).blobs.s3.forcePathStyle, expected, given);
    }
  });
});

describe('adapter inference', () => {
  test('KAFKA_BROKERS selects the Kafka bus and is split into brokers', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092,[::1]:9093' });
    assert.equal(config.bus.adapter, 'kafka');
    assert.deepEqual(config.bus.kafka.brokers, ['kafka-0:9092', 'kafka-1:9092', '[::1]:9093']);
  });

  test('BUS_ADAPTER overrides the inference', () => {
    assert.equal(loadConfig({ KAFKA_BROKERS: 'k:9092', BUS_ADAPTER: 'postgres' }).bus.adapter, 'postgres');
  });

  test('S3_ENDPOINT selects the S3 blob store', () => {
    const config = loadConfig({
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'correo',
      S3_SECRET_ACCESS_KEY: 'correo-secret',
    });
    assert.equal(config.blobs.adapter, 's3');
    assert.equal(config.blobs.s3.endpoint, 'http://minio:9000');
    assert.equal(config.blobs.s3.accessKeyId, 'correo');
    assert.equal(config.blobs.s3.secretAccessKey, 'correo-secret');
  });

  test('BLOB_ADAPTER=s3 without an endpoint leaves credentials to the AWS SDK', () => {
    const config = loadConfig({ BLOB_ADAPTER: 's3' });
    assert.equal(config.blobs.adapter, 's3');
    assert.equal(config.blobs.s3.accessKeyId, undefined);
  });

  test('REDIS_URL moves notify and limits to Redis; each can be overridden', () => {
    const both = loadConfig({ REDIS_URL: 'redis://redis:6379' });
    assert.equal(both.notify.adapter, 'redis');
    assert.equal(both.limits.adapter, 'redis');
    const split = loadConfig({ REDIS_URL: 'rediss://redis:6380', LIMITS_ADAPTER: 'memory' });
    assert.equal(split.notify.adapter, 'redis');
    assert.equal(split.limits.adapter, 'memory');
  });

  test('PROXY_TRUSTED_CIDRS takes addresses and networks, none by default, and refuses anything else', () => {
    assert.deepEqual(loadConfig({}).proxy.trustedCidrs, []);
    const config = loadConfig({ PROXY_TRUSTED_CIDRS: '10.0.0.0/8, 192.0.2.7,fd00::/8' });
    assert.deepEqual(config.proxy.trustedCidrs, ['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    for (const bad of ['10.0.0.0/33', 'lb.example.net', '10.0.0.0/8/1', 'fd00::/129']) {
      const error = configErrorOf({ PROXY_TRUSTED_CIDRS: bad });
      assert.deepEqual(
        error.issues.map((issue) => issue.variable),
        ['PROXY_TRUSTED_CIDRS'],
        bad,
      );
    }
  });
});

test('EMBEDDED_POSTGRES_SETTINGS: blank-separated name=value pairs; none that would break durability', () => {
  assert.deepEqual(loadConfig({}).database.embeddedSettings, []);
  const config = loadConfig({
    EMBEDDED_POSTGRES_SETTINGS:
      ' commit_delay=200  shared_preload_libraries=pg_stat_statements,auto_explain ',
  });
  assert.deepEqual(config.database.embeddedSettings, [
    { name: 'commit_delay', value: '200' },
    { name: 'shared_preload_libraries', value: 'pg_stat_statements,auto_explain' },
  ]);
  // The 250 promises a durable message: these are refused, whatever the value; so is correo's wiring.
  for (const bad of [
    'fsync=off',
    'synchronous_commit=off',
    'FULL_PAGE_WRITES=off',
    'commit_delay=200 fsync=off',
    'port=5433',
    'commit_delay',
    'commit_delay=',
    'x;y=1',
  ]) {
    const error = configErrorOf({ EMBEDDED_POSTGRES_SETTINGS: bad });
    assert.deepEqual(
      error.issues.map((issue) => issue.variable),
      ['EMBEDDED_POSTGRES_SETTINGS'],
      bad,
    );
  }
});

describe('bad values', () => {
  const cases: [variable: string, value: string][] = [
    ['LOG_LEVEL', 'loud'],
    ['EMBEDDED_POSTGRES_PORT', '70000'],
    ['EMBEDDED_POSTGRES_PORT', '0'],
    ['DATABASE_POOL_IDLE_MS', '-1'],
    ['DATABASE_POOL_IDLE_MS', '10s'],
    ['METRICS_PORT', 'abc'],
    ['METRICS_PORT', '-1'],
    ['READINESS_TIMEOUT_MS', '1.5'],
    ['BUS_MAX_ATTEMPTS', '0'],
    ['KAFKA_TOPIC_PARTITIONS', '0'],
    ['KAFKA_REPLICATION_FACTOR', 'three'],
    ['KAFKA_CONNECTION_TIMEOUT_MS', '5s'],
    ['KAFKA_BROKERS', 'localhost'],
    ['KAFKA_BROKERS', 'a:9092,,b:9092'],
    ['KAFKA_BROKERS', 'kafka:99999'],
    ['BUS_ADAPTER', 'rabbitmq'],
    ['BLOB_ADAPTER', 'gcs'],
    ['S3_ENDPOINT', 'minio:9000'],
    ['S3_ENDPOINT', 'ftp://minio'],
    ['S3_FORCE_PATH_STYLE', 'maybe'],
    ['NOTIFY_ADAPTER', 'memcached'],
    ['LIMITS_ADAPTER', 'redis-cluster'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
  ];
  for (const [variable, value] of cases) {
    test(`${variable}=${value} is named in the error with what was expected and given`, () => {
      const error = configErrorOf({ [variable]: value });
      assert.equal(error.issues.length, 1, error.message);
      const [issue] = error.issues;
      assert.equal(issue?.variable, variable);
      assert.ok(issue?.expected, 'says what was expected');
      assert.equal(issue?.given, JSON.stringify(value));
      assert.match(error.message, new RegExp(`^  ${variable}: expected .+, got "`, 'm'));
    });
  }

  test('every bad variable is reported at once, one line each', () => {
    const error = configErrorOf({
      LOG_LEVEL: 'loud',
      METRICS_PORT: '99999',
      KAFKA_BROKERS: 'nope',
      S3_FORCE_PATH_STYLE: 'perhaps',
    });
    assert.deepEqual(
      error.issues.map((issue) => issue.variable),
      ['LOG_LEVEL', 'KAFKA_BROKERS', 'S3_FORCE_PATH_STYLE', 'METRICS_PORT'],
    );
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'invalid configuration (4 variables):');
    assert.equal(lines.length, 5);
  });

  test('BUS_ADAPTER=kafka without KAFKA_BROKERS blames KAFKA_BROKERS', () => {
    const error = configErrorOf({ BUS_ADAPTER: 'kafka' });
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0]?.variable, 'KAFKA_BROKERS');
    assert.match(error.issues[0]?.expected ?? '', /BUS_ADAPTER is kafka/);
    assert.equal(error.issues[0]?.given, 'nothing (unset)');
  });

  test('an S3 endpoint needs both credentials', () => {
    const error = configErrorOf({ S3_ENDPOINT: 'http://minio:9000' });
    assert.deepEqual(
      error.issues.map((issue) => issue.variable),
      ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
    );
  });

  test('a Redis adapter without REDIS_URL blames REDIS_URL', () => {
    const error = configErrorOf({ NOTIFY_ADAPTER: 'redis' });
    assert.equal(error.issues[0]?.variable, 'REDIS_URL');
    assert.match(error.issues[0]?.expected ?? '', /NOTIFY_ADAPTER is redis/);
  });
});

describe('secrets', () => {
  test('secret values never appear in the error', () => {
    const error = configErrorOf({
      DATABASE_URL: 'mysql://root:hunter2@db/correo',
      REDIS_URL: 'http://:redis-pass-42@redis',
      S3_ENDPOINT: 'http://minio:9000',
      S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-K7MDENG',
    });
    assert.deepEqual(error.issues.map((issue) => issue.variable).sort(), [
      'DATABASE_URL',
      'REDIS_URL',
      'S3_ACCESS_KEY_ID',
    ]);
    for (const secret of ['hunter2', 'redis-pass-42', 'wJalrXUtnFEMI-K7MDENG']) {
      assert.ok(!error.message.includes(secret), `${secret} leaked into: ${error.message}`);
      assert.ok(!JSON.stringify(error.issues).includes(secret), `${secret} leaked into the issues`);
    }
    assert.match(error.message, /DATABASE_URL: expected .+, got a secret value \(not shown\)/);
  });
});

describe('service sections', () => {
  const smtp = defineSection({
    variables: { SMTP_MX_PORT: port({ default: 25 }), SMTP_TLS_KEY: text('') },
    secrets: ['SMTP_TLS_KEY'],
    check: (vars) =>
      vars.SMTP_MX_PORT === 587 ? [{ variable: 'SMTP_MX_PORT', expected: 'a port other than 587' }] : [],
    build: (vars, base) => ({ mxPort: vars.SMTP_MX_PORT, tlsKey: vars.SMTP_TLS_KEY, spoolDir: base.dataDir }),
  });

  test('a section adds a typed group next to the shared ones', () => {
    const config = loadConfig({ SMTP_MX_PORT: '2525', LOG_LEVEL: 'warn' }, { smtp });
    const mxPort: number = config.smtp.mxPort;
    assert.equal(mxPort, 2525);
    assert.equal(config.smtp.spoolDir, config.dataDir);
    assert.equal(config.logLevel, 'warn');
  });

  test('section and shared variables are reported together, section secrets hidden', () => {
    const error = (() => {
      try {
        loadConfig({ SMTP_MX_PORT: '587', LOG_LEVEL: 'loud', SMTP_TLS_KEY: '-----BEGIN KEY' }, { smtp });
      } catch (caught) {
        return caught as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.deepEqual(
      error.issues.map((issue) => issue.variable),
      ['LOG_LEVEL', 'SMTP_MX_PORT'],
    );
    assert.ok(!error.message.includes('BEGIN KEY'));
    assert.deepEqual(configVariableNames({ smtp }).slice(-2), ['SMTP_MX_PORT', 'SMTP_TLS_KEY']);
  });

  test('a section may not redefine a shared variable', () => {
    const clash = defineSection({ variables: { LOG_LEVEL: text('x') }, build: (vars) => vars });
    assert.throws(() => loadConfig({}, { clash }), /redefines LOG_LEVEL/);
  });
});

describe('loadConfigOrExit', () => {
  const fixture = new URL('./fixtures/start-service.ts', import.meta.url).pathname;
  const run = (env: Env) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      env: { PATH: process.env.PATH, ...env },
    });

  test('prints one line per bad variable to stderr and exits 1', async () => {
    const failure = await run({ LOG_LEVEL: 'loud', METRICS_PORT: 'x' }).then(
      () => assert.fail('expected the process to exit 1'),
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.equal(failure.stdout, '');
    assert.deepEqual(failure.stderr.trim().split('\n').slice(1), [
      '  LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      '  METRICS_PORT: expected an integer from 0 to 65535, got "x"',
    ]);
  });

  test('returns the config when the environment is valid', async () => {
    const { stdout } = await run({ LOG_LEVEL: 'error' });
    assert.deepEqual(JSON.parse(stdout), { logLevel: 'error' });
  });
});

test('docs/configuration.md documents every variable the schema knows', async () => {
  const doc = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const undocumented = configVariableNames().filter((name) => !doc.includes(`\`${name}\``));
  assert.deepEqual(undocumented, [], 'variables missing from docs/configuration.md');
});
