import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configVariableNames } from '@correo/config';
import { serviceSections } from '@correo/all-in-one';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * There is no Docker engine here, so docker-compose.yml is checked the way `docker compose
 * config` checks it (the same compose v2 code, offline), and every variable it gives a
 * correo service must be one the config schema reads: a renamed variable would otherwise
 * leave the compose stack silently on a default.
 */
test('docker-compose.yml is valid and in step with the config schema', { timeout: 600_000 }, () => {
  const compose = execFileSync('bash', ['scripts/go-tool.sh', 'docker-compose'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const json = execFileSync(compose, ['-f', 'docker-compose.yml', 'config', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const project = JSON.parse(json) as {
    services: Record<
      string,
      { build?: unknown; environment?: Record<string, string | null>; healthcheck?: unknown }
    >;
  };

  for (const backend of ['kafka', 'postgres', 'redis', 'minio', 'otel-collector']) {
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
