import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { baseSecrets, configVariableNames } from '@correo/config';
import { metrics } from '@correo/telemetry';
import { serviceSections } from '@correo/all-in-one';
import { VALUES_DOC, valuesDoc } from '../../scripts/chart-values-doc.js';
import { DASHBOARD_DIR, dashboardFiles } from '../../scripts/grafana-dashboards.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts/correo');

interface K8sObject {
  kind: string;
  apiVersion: string;
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
  startupProbe?: { httpGet: { path: string } };
  securityContext?: { readOnlyRootFilesystem?: boolean };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}

function tool(script: string, name: string): string {
  return execFileSync('bash', [script, name], { cwd: ROOT, encoding: 'utf8' }).trim();
}

function helm(...args: string[]): string {
  return execFileSync(tool('scripts/go-tool.sh', 'helm'), args, { cwd: ROOT, encoding: 'utf8' });
}

function render(...args: string[]): K8sObject[] {
  return parseAllDocuments(helm('template', 'mail', CHART, ...args))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const FULL = join(CHART, 'ci/full-values.yaml');
// Custom resources of operators the chart integrates with: the Kubernetes schemas do not have
// them. PrometheusRule's content is checked by promtool instead (e2e/test/prometheus.test.ts).
const CUSTOM_KINDS = new Set(['PrometheusRule', 'ServiceMonitor', 'Certificate']);
// The oldest and the newest release the chart is checked against.
const KUBERNETES_VERSIONS = ['1.33', '1.37'];

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
    'MANAGESIEVE_ALLOW_PLAINTEXT_AUTH_LOOPBACK',
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
    readFileSync(join(CHART, 'prometheus/alerts.yaml'), 'utf8'),
  ];
  for (const text of texts) for (const m of text.matchAll(/\bcorreo_[a-z0-9_]+/g)) charted.add(m[0]);
  assert.ok(charted.size >= 10, 'the dashboard charts the services');
  const missing = [...charted].filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
  assert.deepEqual(missing, [], 'every charted metric is exported by some service');
});

test('dashboards and alerts select and group only by labels the metrics have', () => {
  // Labels Prometheus itself adds to every series, and the histogram bucket bound.
  const added = ['pod', 'instance', 'job', 'namespace', 'le'];
  const declared = new Map<string, string[]>();
  for (const dir of ['libs', 'services']) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/name: '(correo_[a-z0-9_]+)',([^}]*)\}/g)) {
        const labels = /labelNames: \[([^\]]*)\]/.exec(match[2]!)?.[1] ?? '';
        declared.set(
          match[1]!,
          [...labels.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!),
        );
      }
    }
  }
  const labelsOf = (metric: string) => [
    ...(declared.get(metric.replace(/_(bucket|sum|count)$/, '')) ?? []),
    ...added,
  ];
  const texts = [
    ...readdirSync(join(CHART, 'dashboards')).map((f) => readFileSync(join(CHART, 'dashboards', f), 'utf8')),
    readFileSync(join(CHART, 'prometheus/alerts.yaml'), 'utf8'),
  ];
  const wrong: string[] = [];
  let checked = 0;
  for (const text of texts) {
    for (const [, metric, matchers] of text.matchAll(/(correo_[a-z0-9_]+)\{([^}]*)\}/g)) {
      for (const [, label] of matchers!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) {
        checked += 1;
        if (!labelsOf(metric!).includes(label!)) wrong.push(`${metric}{${label}}`);
      }
    }
    for (const [, grouping, metric] of text.matchAll(/by \(([^)]*)\) \((?:[a-z_]+\()?(correo_[a-z0-9_]+)/g)) {
      for (const label of grouping!.split(',').map((l) => l.trim())) {
        checked += 1;
        if (!labelsOf(metric!).includes(label)) wrong.push(`${metric} by ${label}`);
      }
    }
  }
  assert.ok(checked >= 20, `${checked} label uses checked`);
  assert.deepEqual(wrong, [], 'every label a query uses is declared on its metric');
});

test(
  'the chart lints, renders and validates against the Kubernetes schemas, default and full',
  { timeout: 600_000 },
  () => {
    const validate = tool('scripts/py-tool.sh', 'kubernetes-validate');
    const dir = mkdtempSync(join(tmpdir(), 'correo-chart-'));
    try {
      for (const [label, args] of [
        ['default', []],
        ['full', ['-f', FULL]],
      ] as const) {
        helm('lint', '--strict', CHART, ...args);
        const objects = render(...args);
        const manifests = join(dir, `${label}.yaml`);
        writeFileSync(manifests, helm('template', 'mail', CHART, ...args));
        const builtIn = objects.filter((o) => !CUSTOM_KINDS.has(o.kind)).length;
        for (const version of KUBERNETES_VERSIONS) {
          // Throws (exit 1) on the first manifest that does not validate; --strict also rejects unknown fields.
          const report = execFileSync(validate, ['--strict', '--no-warn', '-k', version, manifests], {
            encoding: 'utf8',
          });
          const passed = report.split('\n').filter((line) => line.includes(`against version ${version}`));
          assert.equal(
            passed.length,
            builtIn,
            `${label}: every built-in object validated against ${version}`,
          );
        }
      }
      // The validator does reject what Kubernetes would: a Deployment with a mistyped field.
      const broken = join(dir, 'broken.yaml');
      writeFileSync(
        broken,
        helm('template', 'mail', CHART, '--show-only', 'templates/deployments.yaml').replace(
          /replicas: 2/,
          'replicas: two',
        ),
      );
      assert.throws(() =>
        execFileSync(validate, ['--strict', '--quiet', '-k', KUBERNETES_VERSIONS[0]!, broken], {
          stdio: 'pipe',
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('values.schema.json rejects a values file that does not fit it', () => {
  for (const bad of [
    ['--set', 'services.mda.replicas=-1'],
    ['--set', 'services.smtp-ingress.service.externalTrafficPolicy=Sometimes'],
    ['--set', 'networkPolicy.enabled=maybe'],
    ['--set', 'replicaCount=3'],
    ['--set', 'secretRefs.DATABASE_URL.name=only-a-name'],
  ]) {
    assert.throws(
      () =>
        execFileSync(tool('scripts/go-tool.sh', 'helm'), ['template', 'mail', CHART, ...bad], {
          stdio: 'pipe',
        }),
      /values don't meet the specifications of the schema/,
      `helm template refuses ${bad.join(' ')}`,
    );
  }
});

test('VALUES.md is generated from values.schema.json and up to date', () => {
  assert.equal(
    readFileSync(VALUES_DOC, 'utf8'),
    valuesDoc(),
    'run: node --import tsx scripts/chart-values-doc.ts',
  );
  const doc = readFileSync(VALUES_DOC, 'utf8');
  for (const key of [
    'networkPolicy.backends.postgres.podSelector',
    'services.mda.autoscaling.consumerLag.metricName',
  ])
    assert.ok(doc.includes(`\`${key}\``), `VALUES.md documents ${key}`);
});

test('the dashboards are those scripts/grafana-dashboards.ts writes, each in its own ConfigMap', () => {
  const generated = dashboardFiles();
  assert.deepEqual(
    readdirSync(DASHBOARD_DIR).sort(),
    [...generated.keys()].sort(),
    'run: node --import tsx scripts/grafana-dashboards.ts',
  );
  for (const [file, json] of generated) {
    // Compared parsed: prettier formats the committed files.
    assert.deepEqual(JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')), JSON.parse(json), file);
  }
  const configMaps = render()
    .filter((o) => o.kind === 'ConfigMap' && o.metadata.name.includes('-dashboard-'))
    .map((o) => Object.keys(o.data ?? {})[0]);
  assert.deepEqual(configMaps.sort(), [
    'backends.json',
    'imap-pop3.json',
    'overview.json',
    'relay.json',
    'smtp.json',
  ]);
});

test('the full values file turns every production feature on', () => {
  const objects = render('-f', FULL);
  const named = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  assert.equal(deployments.length, 8);
  for (const deployment of deployments) {
    const spec = deployment.spec as { replicas?: number; template: { spec: Record<string, unknown> } };
    const name = deployment.metadata.name;
    assert.equal(spec.replicas, undefined, `${name}: the HPA owns the replica count`);
    assert.ok(named('HorizontalPodAutoscaler').includes(name), `${name} has an HPA`);
    assert.ok(named('PodDisruptionBudget').includes(name), `${name} has a PDB`);
    assert.ok(named('NetworkPolicy').includes(name), `${name} has a NetworkPolicy`);
    assert.ok(Array.isArray(spec.template.spec.topologySpreadConstraints), `${name} spreads over zones`);
    const container = (spec.template.spec.containers as Container[])[0]!;
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${name}: read-only root`);
    assert.deepEqual(
      container.volumeMounts?.filter((m) => m.name !== 'tls').map((m) => m.mountPath),
      ['/tmp', '/var/lib/correo'],
      `${name}: writable emptyDirs`,
    );
    assert.equal(container.startupProbe?.httpGet.path, '/healthz');
    assert.ok(container.resources?.requests?.cpu && container.resources.limits?.memory, `${name}: sized`);
    assert.ok(
      container.env?.some((e) => e.name === 'DATABASE_URL'),
      `${name}: DATABASE_URL from the secretRefs Secret`,
    );
  }
  for (const [service, prefix] of [
    ['smtp-ingress', 'SMTP'],
    ['imap-gateway', 'IMAP'],
    ['pop3-gateway', 'POP3'],
    ['managesieve-gateway', 'MANAGESIEVE'],
  ]) {
    const deployment = deployments.find((d) => d.metadata.name === `mail-correo-${service}`)!;
    const env = deployment.spec!.template!.spec.containers[0]!.env!;
    assert.ok(env.some((e) => e.name === `${prefix}_TLS_CERT_FILE` && e.value === '/etc/correo/tls/tls.crt'));
    const mailService = objects.find(
      (o) => o.kind === 'Service' && o.metadata.name === `mail-correo-${service}`,
    );
    assert.equal(mailService?.spec?.externalTrafficPolicy, 'Local', `${service} keeps the client address`);
  }
  assert.deepEqual(named('Certificate'), ['mail-correo-tls']);
  const mdaScaler = objects.find(
    (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name.endsWith('-mda'),
  );
  assert.deepEqual(
    (mdaScaler?.spec?.metrics as { type: string }[]).map((m) => m.type),
    ['Resource', 'External'],
    'the mda also scales on consumer lag',
  );
  const job = objects.find((o) => o.kind === 'Job')!;
  assert.equal(
    (job as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations[
      'helm.sh/hook'
    ],
    'pre-install,pre-upgrade',
  );

  // Backends let in only the services that use them.
  const allowed = (backend: string) =>
    (
      objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === `mail-correo-backend-${backend}`)
        ?.spec?.ingress as { from: { podSelector: { matchLabels: Record<string, string> } }[] }[]
    )[0]!.from
      .map((peer) => peer.podSelector.matchLabels['app.kubernetes.io/component'])
      .sort();
  assert.deepEqual(allowed('kafka'), ['admin-api', 'mda', 'mta-relay', 'smtp-ingress']);
  assert.deepEqual(allowed('redis'), [
    'imap-gateway',
    'managesieve-gateway',
    'mda',
    'pop3-gateway',
    'smtp-ingress',
  ]);
  assert.deepEqual(allowed('postgres'), [
    'admin-api',
    'imap-gateway',
    'managesieve-gateway',
    'mda',
    'migrate',
    'mta-relay',
    'pop3-gateway',
    'smtp-ingress',
    // Only for each user's "always show images from this sender" list.
    'webmail',
  ]);
  // The webmail names each browser to IMAP, submission and ManageSieve (PROXY v2), which trust its pod network.
  const envOf = (service: string) =>
    deployments.find((d) => d.metadata.name === `mail-correo-${service}`)!.spec!.template!.spec.containers[0]!
      .env!;
  assert.ok(envOf('webmail').some((e) => e.name === 'WEBMAIL_PROXY_PROTOCOL' && e.value === 'true'));
  assert.ok(
    envOf('webmail').some(
      (e) => e.name === 'WEBMAIL_MANAGESIEVE_HOST' && e.value === 'mail-correo-managesieve-gateway',
    ),
  );
  const webmailPolicy = objects.find(
    (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'mail-correo-webmail',
  );
  const webmailEgress = (webmailPolicy?.spec?.egress as { ports: { port: number }[] }[]).flatMap((r) =>
    r.ports.map((p) => p.port),
  );
  assert.ok(webmailEgress.includes(4190), 'the webmail reaches ManageSieve');
  for (const service of ['imap-gateway', 'smtp-ingress', 'managesieve-gateway']) {
    const trusted = envOf(service).filter((e) => e.name === 'PROXY_TRUSTED_CIDRS');
    assert.deepEqual(
      trusted.map((e) => e.value),
      ['10.244.0.0/16'],
      service,
    );
  }
  assert.ok(!envOf('pop3-gateway').some((e) => e.name === 'PROXY_TRUSTED_CIDRS'));
  // IMAP opens only its listeners and /metrics, and reaches no Kafka.
  const imapPolicy = objects.find(
    (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'mail-correo-imap-gateway',
  );
  const opened = (imapPolicy?.spec?.ingress as { ports: { port: number }[] }[]).flatMap((r) =>
    r.ports.map((p) => p.port),
  );
  assert.deepEqual(opened.sort(), [1143, 1993, 9464]);
  const egressPorts = (imapPolicy?.spec?.egress as { ports: { port: number }[] }[]).flatMap((r) =>
    r.ports.map((p) => p.port),
  );
  assert.ok(
    !egressPorts.includes(9092) && !egressPorts.includes(25),
    'IMAP reaches neither Kafka nor remote MX hosts',
  );
});

test('every credential comes from a Secret (existingSecret, secretRefs or secretEnv), never the ConfigMap', () => {
  // What the config schema marks secret; CORREO_DEMO_PASSWORD is make dev's only (refused otherwise).
  const credentials = [
    ...baseSecrets,
    ...Object.values(serviceSections).flatMap((section) => section.secrets ?? []),
  ]
    .filter((name) => name !== 'CORREO_DEMO_PASSWORD')
    .sort();
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
    properties: Record<string, { properties: Record<string, unknown> }>;
  };
  assert.deepEqual(Object.keys(schema.properties.secretRefs!.properties).sort(), credentials);
  assert.deepEqual(Object.keys(schema.properties.secretEnv!.properties).sort(), credentials);

  type Workload = K8sObject & {
    spec: { template: { spec: { containers: (Container & { envFrom?: unknown[] })[] } } };
  };
  const workloads = (objects: K8sObject[]) =>
    objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'Job');

  // A Secret of the operator's: every workload (the migration hook too) reads it, the chart makes none.
  const fromExisting = render('--set', 'existingSecret=mail-credentials');
  assert.ok(!fromExisting.some((o) => o.kind === 'Secret'), 'the chart creates no Secret of its own');
  for (const workload of workloads(fromExisting)) {
    assert.deepEqual(
      workload.spec.template.spec.containers[0]!.envFrom,
      [{ configMapRef: { name: 'mail-correo-env' } }, { secretRef: { name: 'mail-credentials' } }],
      workload.metadata.name,
    );
  }

  // Each credential from a key of a Secret of its own (as operators write them).
  const secretName = (credential: string) => `cred-${credential.toLowerCase().replaceAll('_', '-')}`;
  const fromRefs = render(
    ...credentials.flatMap((c) => [
      ...['--set', `secretRefs.${c}.name=${secretName(c)}`],
      ...['--set', `secretRefs.${c}.key=value`],
    ]),
  );
  for (const workload of workloads(fromRefs)) {
    const env = (workload.spec.template.spec.containers[0]!.env ?? []) as unknown as {
      name: string;
      valueFrom?: { secretKeyRef: { name: string; key: string } };
    }[];
    for (const credential of credentials) {
      assert.deepEqual(
        env.find((e) => e.name === credential)?.valueFrom?.secretKeyRef,
        { name: secretName(credential), key: 'value' },
        `${workload.metadata.name}: ${credential}`,
      );
    }
  }

  // A credential put in the plain environment would land in a ConfigMap: the schema refuses it.
  for (const credential of credentials) {
    for (const where of [`env.${credential}`, `services.mda.env.${credential}`]) {
      assert.throws(
        () =>
          execFileSync(
            tool('scripts/go-tool.sh', 'helm'),
            ['template', 'mail', CHART, '--set', `${where}=x`],
            {
              stdio: 'pipe',
            },
          ),
        /values don't meet the specifications of the schema/,
        `helm template refuses ${where}`,
      );
    }
  }
});

test('every example values block in docs/kubernetes.md renders with the chart', () => {
  // Strimzi, CloudNativePG, a Redis operator, S3, the mda's HPA on consumer lag: a block whose
  // top-level keys are all chart values is a values file a reader will copy.
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
  };
  const doc = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((text) => {
      const parsed = parseAllDocuments(text)[0]?.toJS() as Record<string, unknown> | null;
      return (
        parsed !== null &&
        typeof parsed === 'object' &&
        Object.keys(parsed).every((key) => key in schema.properties)
      );
    });
  assert.ok(blocks.length >= 6, `${blocks.length} example values blocks`);
  const dir = mkdtempSync(join(tmpdir(), 'correo-doc-values-'));
  try {
    blocks.forEach((text, i) => {
      const file = join(dir, `example-${i}.yaml`);
      writeFileSync(file, text);
      // The schema refuses a mistyped key or value; the templates must render with it.
      const objects = render('-f', file);
      assert.ok(
        objects.some((o) => o.kind === 'Deployment'),
        text,
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'test') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (path.endsWith('.ts')) yield path;
  }
}
