import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configVariableNames } from '@correo/config';
import { serviceSections } from '@correo/all-in-one';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ComposeService {
  build?: unknown;
  environment?: Record<string, string | null>;
  healthcheck?: unknown;
  ports?: { host_ip?: string; published?: string; target: number }[];
}

/** The secrets docker-compose.yml requires from the person starting it (docs/security.md). */
const SECRETS = {
  CORREO_ADMIN_TOKEN: 'compose-test-admin-token-0123456789abcdef',
  CORREO_S3_SECRET_ACCESS_KEY: 'compose-test-s3-secret-0123456789',
  CORREO_POSTGRES_PASSWORD: 'compose-test-postgres-0123456789',
  CORREO_GRAFANA_ADMIN_PASSWORD: 'compose-test-grafana-0123456789',
  CORREO_RSPAMD_PASSWORD: 'compose-test-rspamd-0123456789',
};

function composeBinary(): string {
  return execFileSync('bash', ['scripts/go-tool.sh', 'docker-compose'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
}

function composeConfig(env: Record<string, string>) {
  // Only PATH and HOME from this process: a secret set in the developer's shell must not hide a missing one.
  return spawnSync(composeBinary(), ['-f', 'docker-compose.yml', 'config', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
}

/**
 * There is no Docker engine here, so docker-compose.yml is checked the way `docker compose
 * config` checks it (the same compose v2 code, offline), and every variable it gives a
 * correo service must be one the config schema knows: a renamed variable would otherwise
 * leave the compose stack silently on a default.
 */
test('docker-compose.yml is valid and in step with the config schema', { timeout: 600_000 }, () => {
  const run = composeConfig(SECRETS);
  assert.equal(run.status, 0, run.stderr);
  const project = JSON.parse(run.stdout) as { services: Record<string, ComposeService> };

  for (const backend of ['kafka', 'postgres', 'redis', 'minio', 'otel-collector', 'rspamd']) {
    assert.ok(project.services[backend], `compose has ${backend}`);
    assert.ok(project.services[backend]?.healthcheck, `${backend} has a health check`);
  }

  const known = new Set(configVariableNames(serviceSections));
  const correoServices = Object.entries(project.services).filter(([, s]) => s.build !== undefined);
  assert.ok(correoServices.length > 0, 'compose runs correo services');
  for (const [name, service] of correoServices) {
    const unknown = Object.keys(service.environment ?? {}).filter((v) => !known.has(v));
    assert.deepEqual(unknown, [], `${name} sets variables the config schema does not know`);
  }
});

test(
  'compose publishes ports on loopback only and takes its secrets from the caller',
  { timeout: 600_000 },
  () => {
    const run = composeConfig(SECRETS);
    assert.equal(run.status, 0, run.stderr);
    const { services } = JSON.parse(run.stdout) as { services: Record<string, ComposeService> };

    const published = Object.entries(services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => ({ name, ...port })),
    );
    assert.ok(
      published.some((p) => p.name === 'admin-api'),
      'admin-api is published',
    );
    assert.ok(
      published.some((p) => p.name === 'minio'),
      'the MinIO console is published',
    );
    for (const port of published) {
      assert.equal(
        port.host_ip,
        '127.0.0.1',
        `${port.name} publishes ${port.target} on ${port.host_ip ?? 'every interface'}`,
      );
    }

    // The secrets reach the services that use them; nothing carries a published default.
    assert.equal(services['admin-api']?.environment?.ADMIN_TOKEN, SECRETS.CORREO_ADMIN_TOKEN);
    assert.equal(services.minio?.environment?.MINIO_ROOT_PASSWORD, SECRETS.CORREO_S3_SECRET_ACCESS_KEY);
    assert.equal(services.mda?.environment?.S3_SECRET_ACCESS_KEY, SECRETS.CORREO_S3_SECRET_ACCESS_KEY);
    assert.equal(services.postgres?.environment?.POSTGRES_PASSWORD, SECRETS.CORREO_POSTGRES_PASSWORD);
    assert.equal(services.mda?.environment?.RSPAMD_PASSWORD, SECRETS.CORREO_RSPAMD_PASSWORD);
    assert.equal(
      services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD,
      SECRETS.CORREO_GRAFANA_ADMIN_PASSWORD,
    );
    assert.match(
      services.mda?.environment?.DATABASE_URL ?? '',
      new RegExp(`:${SECRETS.CORREO_POSTGRES_PASSWORD}@`),
    );

    // Without them compose refuses to start, naming what to set.
    for (const missing of Object.keys(SECRETS)) {
      const without = Object.fromEntries(Object.entries(SECRETS).filter(([name]) => name !== missing));
      const refused = composeConfig(without);
      assert.notEqual(refused.status, 0, `compose starts without ${missing}`);
      assert.match(refused.stderr, new RegExp(`${missing}.*(set|required)`, 'i'));
    }
  },
);

test(
  'compose watches itself: Prometheus scrapes every correo service, Grafana has the dashboards, spans reach Jaeger',
  { timeout: 600_000 },
  () => {
    const run = composeConfig(SECRETS);
    assert.equal(run.status, 0, run.stderr);
    const project = JSON.parse(run.stdout) as {
      services: Record<
        string,
        ComposeService & { read_only?: boolean; volumes?: { source?: string; target: string }[] }
      >;
      configs: Record<string, { content?: string }>;
    };
    const { services, configs } = project;
    for (const name of ['prometheus', 'grafana', 'jaeger']) assert.ok(services[name], `compose has ${name}`);
    for (const name of ['prometheus', 'grafana', 'jaeger']) {
      assert.ok(
        (services[name]?.ports ?? []).every((port) => port.host_ip === '127.0.0.1'),
        `${name} is published on loopback only`,
      );
    }

    const scrape = parse(configs['prometheus-config']?.content ?? '') as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = scrape.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    const correoServices = Object.entries(services)
      // rspamd is built too (Debian's package), but it is a backend, not a correo service.
      .filter(([name, s]) => s.build !== undefined && name !== 'migrate' && name !== 'rspamd')
      .map(([name]) => name);
    assert.deepEqual(
      correoServices.filter((name) => !targets.includes(`${name}:9464`)),
      [],
      'every correo service is scraped',
    );
    for (const name of correoServices) {
      assert.equal(services[name]?.read_only, true, `${name} runs on a read-only root filesystem`);
    }
    assert.ok(
      services.prometheus?.volumes?.some(
        (v) =>
          v.source?.endsWith('charts/correo/prometheus/alerts.yaml') && scrape.rule_files.includes(v.target),
      ),
      "Prometheus loads the chart's alerts",
    );
    assert.ok(
      services.grafana?.volumes?.some((v) => v.source?.endsWith('charts/correo/dashboards')),
      "Grafana gets the chart's dashboards",
    );
    assert.match(
      configs['grafana-dashboards']?.content ?? '',
      /path: \/var\/lib\/grafana\/dashboards\/correo/,
    );
    assert.match(configs['grafana-datasource']?.content ?? '', /type: prometheus/);
    assert.match(configs['otel-collector-config']?.content ?? '', /endpoint: jaeger:4317/);
  },
);
