import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts/correo');
const ALERTS = join(CHART, 'prometheus/alerts.yaml');
const RUNBOOK_URL = 'https://github.com/correo/correo/blob/main/docs/runbooks/';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function promtool(...args: string[]): string {
  const bin = execFileSync('bash', ['scripts/promtool.sh'], { cwd: ROOT, encoding: 'utf8' }).trim();
  return execFileSync(bin, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
}

const alerts = (parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) =>
  g.rules.filter((r) => r.alert),
);

test('the alerting rules pass promtool check rules and their unit tests', () => {
  assert.match(promtool('check', 'rules', ALERTS), new RegExp(`SUCCESS: ${alerts.length} rules found`));
  assert.match(promtool('test', 'rules', join(CHART, 'prometheus/alerts.test.yaml')), /SUCCESS/);
});

test('every alert has a unit test in which it fires', () => {
  const tests = parse(readFileSync(join(CHART, 'prometheus/alerts.test.yaml'), 'utf8')) as RuleTests;
  const fired = new Set(
    tests.tests.flatMap((t) =>
      (t.alert_rule_test ?? []).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
    ),
  );
  assert.deepEqual(
    alerts.map((a) => a.alert).filter((name) => !fired.has(name!)),
    [],
  );
});

test('every alert links its runbook, and the runbook exists', () => {
  for (const topic of [
    'delivery-lag',
    'dlq-growth',
    'relay-queue-age',
    'certificate-expiry',
    'auth-failure-spike',
    'backend-unavailable',
    'pods-restarting',
    'spam-filter-unreachable',
  ]) {
    assert.ok(
      alerts.some((a) => a.annotations?.runbook_url === `${RUNBOOK_URL}${topic}.md`),
      `an alert links docs/runbooks/${topic}.md`,
    );
  }
  for (const alert of alerts) {
    const url = alert.annotations?.runbook_url ?? '';
    assert.ok(url.startsWith(RUNBOOK_URL), `${alert.alert} has a runbook_url`);
    const file = join(ROOT, 'docs/runbooks', url.slice(RUNBOOK_URL.length));
    assert.ok(existsSync(file), `${alert.alert}: ${file} exists`);
    assert.ok(readFileSync(file, 'utf8').includes(alert.alert!), `${file} names ${alert.alert}`);
  }
});

/** Every query of every panel (rows included) of a Grafana dashboard. */
function dashboardExpressions(dashboard: { panels?: unknown[] }): string[] {
  const found: string[] = [];
  const visit = (panel: { panels?: unknown[]; targets?: { expr?: string }[] }) => {
    for (const target of panel.targets ?? []) if (target.expr) found.push(target.expr);
    for (const inner of panel.panels ?? []) visit(inner as typeof panel);
  };
  visit(dashboard);
  return found;
}

/**
 * promtool has no "parse this expression" command, so the panels' queries become recording rules
 * of a generated rule file, which `promtool check rules` parses. Grafana's own interval variables
 * are replaced by a duration first, as Grafana does before it sends the query.
 */
function checkAsRules(expressions: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'correo-promql-'));
  try {
    const file = join(dir, 'panels.yaml');
    const rules = expressions.map((expr, i) => ({
      record: `dashboard:panel:${i}`,
      expr: expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, '5m'),
    }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard-panels', rules }] }));
    return promtool('check', 'rules', file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every PromQL expression of the dashboards parses', () => {
  const dir = join(CHART, 'dashboards');
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const expressions = dashboardExpressions(
      JSON.parse(readFileSync(join(dir, file), 'utf8')) as { panels?: unknown[] },
    );
    assert.ok(expressions.length > 0, `${file} has queries`);
    assert.match(checkAsRules(expressions), new RegExp(`SUCCESS: ${expressions.length} rules found`), file);
    total += expressions.length;
  }
  assert.ok(total >= 20, `${total} panel queries checked`);
  // The check does catch a broken query.
  assert.throws(() => checkAsRules(['sum by (le (rate(correo_mda_delivered_total[5m]))']), /parse error/);
});

test('the chart ships the alerts unchanged as a PrometheusRule', () => {
  const helm = execFileSync('bash', ['scripts/go-tool.sh', 'helm'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const rendered = execFileSync(
    helm,
    [
      'template',
      'mail',
      CHART,
      '--show-only',
      'templates/prometheusrule.yaml',
      '--set',
      'monitoring.prometheusRule.enabled=true',
    ],
    { encoding: 'utf8' },
  );
  const rule = parse(rendered) as { spec: { groups: unknown } };
  assert.deepEqual(rule.spec.groups, (parse(readFileSync(ALERTS, 'utf8')) as { groups: unknown }).groups);
});
