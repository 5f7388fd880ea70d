import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { encodePlainResponse } from '@correo/auth';
import {
  eventually,
  LineClient,
  listenerPort,
  queuedId,
  runProgram,
  swaks,
  uniqueName,
  type ServiceProcesses,
} from '@correo/testkit';
import { AdminClient } from './support/admin-client.js';
import { startRemoteMx, type RemoteMx } from './support/remote-mx.js';
import { startPrometheus, type TestPrometheus } from './support/prometheus.js';
import { startMailStack, type MailStack } from './support/stacks.js';

// With Debian's prometheus scraping the distributed stack as a cluster runs it - every service its
// own process with its own /metrics port (smtp-ingress, mda, mta-relay, imap-gateway, pop3-gateway,
// managesieve-gateway, admin-api) on Kafka, PostgreSQL, MinIO and Redis - while everyday mail flows through it, every
// query of every panel of the chart's Grafana dashboards returns data: nothing an SRE opens shows
// "No data".
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARDS = join(ROOT, 'charts/correo/dashboards');
const ACTIVITY = fileURLToPath(new URL('./fixtures/imap_pop3_activity.py', import.meta.url));
const run = uniqueName('dash');
const domain = `${run}.test`;
const far = `far-${run}.test`;
const password = 'a password of some length';
const MAX_CONNECTIONS_PER_IP = 3;

let stack: MailStack<ServiceProcesses>;
let prometheus: TestPrometheus;
let remote: RemoteMx;

/** Every panel query of every dashboard, with the dashboard and panel it belongs to. */
function panelQueries(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const visit = (panel: { title?: string; panels?: unknown[]; targets?: { expr?: string }[] }) => {
      for (const target of panel.targets ?? []) {
        if (target.expr) found.push({ where: `${file} / ${panel.title}`, expr: target.expr });
      }
      for (const inner of panel.panels ?? []) visit(inner as typeof panel);
    };
    visit(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Parameters<typeof visit>[0]);
  }
  return found;
}

before(async () => {
  remote = await startRemoteMx((recipient) => recipient.startsWith('nobody@'));
  const outbound = uniqueName('mail.outbound');
  stack = await startMailStack(
    'distributed',
    {
      MDA_OUTBOUND_TOPIC: outbound,
      RELAY_OUTBOUND_TOPIC: outbound,
      RELAY_CONSUMER_GROUP: uniqueName('relay'),
      RELAY_TRANSPORT_MAP: `${far}=127.0.0.1:${remote.port}`,
      SMTP_MAX_CONNECTIONS_PER_IP: String(MAX_CONNECTIONS_PER_IP),
    },
    { processes: 'per-service' },
  );
  // Each service's own metrics port, as the ServiceMonitor scrapes each pod.
  prometheus = await startPrometheus(
    Object.entries(stack.app.services).map(([name, service]) => ({
      address: new URL(service.healthUrl).host,
      pod: `correo-${name}`,
    })),
  );
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(run);
  await admin.createDomain(domain, tenant.id);
  for (const user of ['alice', 'bob']) await admin.createAccount(`${user}@${domain}`, password);
});

after(async () => {
  await prometheus?.close();
  await stack?.close();
  await remote?.close();
});

async function sendMx(to: string): Promise<string[]> {
  const result = await swaks([
    ...['--server', '127.0.0.1', '--port', String(stack.app.ports.mx)],
    ...['--from', 'someone@remote.test', '--to', to, '--header', `Subject: dashboards ${run}`],
  ]);
  return result.replies;
}

async function submit(user: string, secret: string, to: string): Promise<string[]> {
  const result = await swaks([
    ...['--server', '127.0.0.1', '--port', String(stack.app.ports.submission), '--tls'],
    ...['--tls-verify', '--tls-ca-path', stack.app.caFile],
    ...['--auth', 'PLAIN', '--auth-user', user, '--auth-password', secret],
    ...['--from', user, '--to', to, '--header', `Subject: dashboards ${run}`],
  ]);
  return result.replies;
}

/** The greeting of a plain TCP connection to the MX listener (220, or 421 when refused). */
function openMx(): Promise<{ greeting: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: stack.app.ports.mx });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n')) resolve({ greeting: text, close: () => socket.destroy() });
    });
    socket.once('error', reject);
  });
}

/** A ManageSieve session as a Sieve editor has it: STARTTLS, login, a script stored, a broken one refused. */
async function manageSieveSession(user: string): Promise<string[]> {
  const address = stack.app.services['managesieve-gateway'].listeners['ManageSieve (STARTTLS)'];
  assert.ok(address, 'managesieve-gateway logged its listener');
  const plain = await LineClient.connect(listenerPort(address));
  const status = async (client: LineClient) => {
    for (;;) {
      const line = await client.readLine();
      if (/^(OK|NO|BYE)\b/.test(line)) return line;
    }
  };
  await status(plain);
  plain.writeLine('STARTTLS');
  await status(plain);
  const client = await plain.startTls(readFileSync(stack.app.caFile, 'utf8'));
  try {
    await status(client);
    const seen: string[] = [];
    client.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(user, password)}"`);
    seen.push(await status(client));
    client.writeLine('PUTSCRIPT "rules" {5+}');
    client.write('keep;\r\n');
    seen.push(await status(client));
    client.writeLine('PUTSCRIPT "broken" "keep"');
    seen.push((await status(client)).slice(0, 2));
    client.writeLine('LOGOUT');
    seen.push(await status(client));
    return seen;
  } finally {
    client.destroy();
  }
}

test('every dashboard panel query returns data while mail flows through the distributed stack', async (t) => {
  const alice = `alice@${domain}`;
  const bob = `bob@${domain}`;
  // SMTP: MX in, an unknown recipient refused, a failed AUTH, a submission that goes remote to one
  // recipient the remote takes and one it refuses (a bounce, and a DSN back to alice).
  assert.ok(queuedId(await sendMx(alice)), 'MX to a local account');
  assert.ok(queuedId(await sendMx(bob)), 'MX to another local account');
  assert.ok(
    (await sendMx(`nobody@${domain}`)).some((line) => line.startsWith('550')),
    'an unknown local recipient is refused',
  );
  assert.ok(
    (await submit(alice, `${password}-wrong`, bob)).some((line) => line.startsWith('535')),
    'a wrong password is refused',
  );
  assert.ok(queuedId(await submit(alice, password, `friend@${far}`)), 'submission to a remote recipient');
  assert.ok(queuedId(await submit(alice, password, `nobody@${far}`)), 'submission the remote will refuse');
  // A domain nothing routes to (DNS does not answer here): deferred, it stays in the relay's queue.
  assert.ok(queuedId(await submit(alice, password, `someone@unrouted-${run}.test`)), 'a deferred submission');
  // One connection over the per-address limit is refused at connect time.
  const open = await Promise.all(Array.from({ length: MAX_CONNECTIONS_PER_IP }, () => openMx()));
  const refused = await openMx();
  assert.match(refused.greeting, /^421 /);
  for (const connection of [...open, refused]) connection.close();

  // IMAP and POP3 on alice's mailbox once the mail is filed.
  await eventually('mail in the mailboxes', async () => {
    const [delivered] = await prometheus.query('sum(correo_mda_delivered_total)');
    return Number(delivered?.value[1] ?? 0) >= 2;
  });
  const activity = await runProgram('python3', [
    ACTIVITY,
    '127.0.0.1',
    String(stack.app.ports.imaps),
    String(stack.app.ports.pop3s),
    alice,
    password,
    stack.app.caFile,
  ]);
  assert.equal(activity.code, 0, activity.stderr);
  const clients = JSON.parse(activity.stdout) as { imap?: string[]; pop3?: string[]; error?: string };
  assert.equal(clients.error, undefined, activity.stdout);
  assert.deepEqual(clients.imap, ['login refused', 'OK', 'OK', 'OK', 'NO', 'BAD']);
  assert.deepEqual(await manageSieveSession(alice), ['OK "Logged in"', 'OK "Stored"', 'NO', 'OK "Bye"']);

  // The relay's outcomes, and the DSN for the refused recipient, in the scraped metrics.
  await eventually(
    'the relay outcomes and the DSN in Prometheus',
    async () => {
      const outcomes = await prometheus.query('sum by (outcome) (correo_relay_recipient_outcomes_total)');
      const dsn = await prometheus.query('sum(correo_relay_dsn_sent_total)');
      return (
        ['delivered', 'bounced'].every((o) => outcomes.some((r) => r.metric.outcome === o)) &&
        Number(dsn[0]?.value[1] ?? 0) >= 1
      );
    },
    120_000,
    500,
  );
  // A few more scrapes so that every rate() has samples on both sides of the traffic.
  await prometheus.scraped(10);
  const up = await prometheus.query('up == 1');
  assert.deepEqual(
    up.map((series) => series.metric.pod).sort(),
    Object.keys(stack.app.services)
      .map((name) => `correo-${name}`)
      .sort(),
    'every service process is scraped on its own metrics port',
  );

  const queries = panelQueries();
  const empty: string[] = [];
  for (const { where, expr } of queries) {
    // What Grafana sends for $__rate_interval at a 1 s scrape interval, rounded up to a safe window.
    const result = await prometheus.query(expr.replaceAll('$__rate_interval', '1m'));
    if (result.length === 0) empty.push(`${where}: ${expr}`);
  }
  t.diagnostic(`${queries.length - empty.length} of ${queries.length} panel queries returned data`);
  assert.deepEqual(empty, [], 'every panel query returns data');

  // The chart's memory limits hold what each process really used through this journey.
  const values = parse(readFileSync(join(ROOT, 'charts/correo/values.yaml'), 'utf8')) as {
    services: Record<string, { resources: { limits: { memory: string } } }>;
  };
  const bytes = (quantity: string) =>
    Number(/^(\d+)/.exec(quantity)![1]) * { Mi: 2 ** 20, Gi: 2 ** 30 }[/(Mi|Gi)$/.exec(quantity)![1]!]!;
  const peaks = await prometheus.query(
    'max by (pod) (max_over_time(correo_process_resident_memory_bytes[10m]))',
  );
  assert.equal(peaks.length, Object.keys(stack.app.services).length);
  for (const peak of peaks) {
    const service = peak.metric.pod!.replace(/^correo-/, '');
    const limit = values.services[service]!.resources.limits.memory;
    const used = Number(peak.value[1]);
    t.diagnostic(`${service}: peak RSS ${(used / 2 ** 20).toFixed(0)} MiB, limit ${limit}`);
    assert.ok(used < bytes(limit), `${service} peaked at ${used} bytes, over its limit ${limit}`);
  }
});
