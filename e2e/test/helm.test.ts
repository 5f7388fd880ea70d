import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { configVariableNames } from '@correo/config';
import { metrics } from '@correo/telemetry';
import { serviceSections } from '@correo/all-in-one';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts/correo');

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown> & {
    template?: { spec: { containers: Container[] } };
  };
  data?: Record<string, string>;
}
interface Container {
  name: string;
  command: string[];
  env?: { name: string; value: string }[];
  livenessProbe?: { httpGet: { path: string } };
  readinessProbe?: { httpGet: { path: string } };
}

function helm(...args: string[]): string {
  const bin = execFileSync('bash', ['scripts/go-tool.sh', 'helm'], { cwd: ROOT, encoding: 'utf8' }).trim();
  return execFileSync(bin, args, { cwd: ROOT, encoding: 'utf8' });
}

const everything = [
  '--set',
  'monitoring.prometheusRule.enabled=true',
  '--set',
  'monitoring.serviceMonitor.enabled=true',
  '--set',
  'secretEnv.DATABASE_URL=postgres://correo:x@postgres:5432/correo',
];

test(
  'the chart lints and renders every service with probes on the health server',
  { timeout: 600_000 },
  () => {
    helm('lint', CHART, ...everything);
    const objects = parseAllDocuments(helm('template', 'mail', CHART, ...everything))
      .map((doc) => doc.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);

    const deployments = objects.filter((o) => o.kind === 'Deployment');
    assert.ok(deployments.length >= 3, 'a Deployment per service');
    const known = new Set(configVariableNames(serviceSections));
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-env'));
    assert.ok(configMap?.data, 'the shared environment ConfigMap');
    assert.deepEqual(
      Object.keys(configMap.data).filter((v) => !known.has(v)),
      [],
      'values.yaml env sets only variables the config schema knows',
    );
    for (const deployment of deployments) {
      const [container] = deployment.spec!.template!.spec.containers;
      assert.ok(container);
      const main = container.command.at(-1)!;
      assert.ok(existsSync(join(ROOT, main)), `${deployment.metadata.name} runs ${main}, which exists`);
      assert.equal(container.livenessProbe?.httpGet.path, '/healthz');
      assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
      const unknown = (container.env ?? []).map((e) => e.name).filter((v) => !known.has(v));
      assert.deepEqual(unknown, [], `${deployment.metadata.name} sets only known variables`);
    }
    for (const kind of ['Job', 'Service', 'PrometheusRule', 'ServiceMonitor']) {
      assert.ok(
        objects.some((o) => o.kind === kind),
        `renders a ${kind}`,
      );
    }
  },
);

test('the chart keeps plaintext AUTH off for loopback clients: behind a sidecar every client is loopback', () => {
  const objects = parseAllDocuments(helm('template', 'mail', CHART, ...everything))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-env'));
  for (const variable of [
    'SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK',
    'IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK',
    'POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK',
  ]) {
    assert.equal(configMap?.data?.[variable], 'false', `${variable} is set to false in values.yaml`);
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const env = deployment.spec!.template!.spec.containers[0]!.env ?? [];
      assert.ok(
        !env.some((e) => e.name === variable && e.value !== 'false'),
        `${deployment.metadata.name} does not turn ${variable} on`,
      );
    }
  }
});

test('dashboards and alerts chart only metrics the services really export', async () => {
  const exported = new Set<string>();
  // Metrics declared in the code...
  for (const dir of ['libs', 'services']) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/name: '(correo_[a-z0-9_]+)'/g))
        exported.add(match[1]!);
    }
  }
  // ...and the process metrics every service registers through @correo/telemetry.
  for (const metric of await metrics.registry.getMetricsAsJSON()) exported.add(metric.name);

  const charted = new Set<string>();
  const texts = [
    ...readdirSync(join(CHART, 'dashboards')).map((f) => readFileSync(join(CHART, 'dashboards', f), 'utf8')),
    readFileSync(join(CHART, 'templates/prometheusrule.yaml'), 'utf8'),
  ];
  for (const text of texts) for (const m of text.matchAll(/\bcorreo_[a-z0-9_]+/g)) charted.add(m[0]);
  assert.ok(charted.size >= 10, 'the dashboard charts the services');
  const missing = [...charted].filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
  assert.deepEqual(missing, [], 'every charted metric is exported by some service');
});

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'test') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (path.endsWith('.ts')) yield path;
  }
}
