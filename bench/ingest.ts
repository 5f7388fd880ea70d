// SMTP ingest benchmark (a report, not a test): N messages of ~4 KB over C parallel SMTP sessions
// (each session reused for its share) to the MX port of an all-in-one this script starts, addressed
// to local accounts. Reports accepted msgs/s (until the last 250), end-to-end delivered msgs/s (until
// the last row is stored), and the latency from each 250 to its stored row (matched by event id),
// on the embedded default and on the Kafka stack. Writes bench/results/ingest-<date>.json too.
// The `services` stack is the Kafka stack with every service its own process, as the chart deploys
// them: it also reports each process's CPU per message and memory (the chart's resources come
// from these figures, charts/correo/values.yaml).
//
//   make bench-ingest
//   BENCH_MESSAGES=2000 BENCH_SESSIONS=20 BENCH_STACKS=embedded,kafka make bench-ingest
//   node --import tsx bench/ingest.ts --messages=500 --sessions=4 --stacks=embedded
//   BENCH_STACKS=services make bench-ingest
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import pg from 'pg';
import { uniqueName } from '@correo/testkit';
import { AdminClient } from '../e2e/test/support/admin-client.js';
import { startMailStack } from '../e2e/test/support/stacks.js';

/**
 * The stacks by their bench option names: kafka is the distributed test stack (the all-in-one on
 * Kafka, PostgreSQL, MinIO, Redis), services the same backends under one process per service.
 */
type BenchStack = 'embedded' | 'kafka' | 'services';
import { SMTP_LIMITS_OFF, option } from './options.js';
import { formatTable, percentile } from './report.js';

const messages = Number(option('messages', '2000'));
const sessions = Number(option('sessions', '20'));
const messageBytes = Number(option('message_bytes', '4096'));
const stacks = option('stacks', process.env.KAFKA_BROKERS ? 'embedded,kafka' : 'embedded')
  .split(',')
  .map((s) => s.trim()) as BenchStack[];
/** Past this, the run reports what it has (a stalled pipeline is a result too). */
const deliveryTimeoutMs = Number(option('timeout_ms', '300000'));
const RECIPIENTS = 4;

interface StackResult {
  stack: BenchStack;
  messages: number;
  sessions: number;
  messageBytes: number;
  accepted: number;
  stored: number;
  acceptedPerSecond: number;
  deliveredPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  acceptSeconds: number;
  endToEndSeconds: number;
  /** services only: each process's CPU per message over the run, and its memory. */
  processes?: ProcessFootprint[];
}

interface ProcessFootprint {
  service: string;
  cpuMsPerMessage: number;
  /** After startup, before any mail. */
  idleRssMiB: number;
  /** The peak (VmHWM) by the end of the run. */
  peakRssMiB: number;
}

/** user + system CPU seconds of a process so far, and its memory (kB), from /proc. */
async function processUsage(pid: number): Promise<{ cpuSeconds: number; rssKb: number; hwmKb: number }> {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return {
    cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100,
    rssKb: kb('VmRSS'),
    hwmKb: kb('VmHWM'),
  };
}

function body(bytes: number, subject: string, to: string): string {
  const head = [
    'From: <bench@remote.test>',
    `To: <${to}>`,
    `Subject: ${subject}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@bench.correo.test>`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    '',
  ].join('\r\n');
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return head + '\r\n' + line.repeat(Math.max(1, Math.ceil((bytes - head.length) / line.length)));
}

function connect(port: number): Promise<SMTPConnection> {
  const connection = new SMTPConnection({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'bench.client.test',
    socketTimeout: 120_000,
  });
  return new Promise((resolve, reject) => {
    connection.once('error', reject);
    connection.connect((error) => (error ? reject(error) : resolve(connection)));
  });
}

function send(connection: SMTPConnection, to: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    connection.send({ from: 'bench@remote.test', to: [to] }, text, (error, info) =>
      error ? reject(error) : resolve(info.response),
    );
  });
}

async function benchStack(kind: BenchStack): Promise<StackResult> {
  const env = {
    SMTP_MAX_CONNECTIONS_PER_IP: String(sessions + 10),
    ...SMTP_LIMITS_OFF,
  };
  const stack =
    kind === 'services'
      ? await startMailStack('distributed', env, { processes: 'per-service' })
      : await startMailStack(kind === 'kafka' ? 'distributed' : 'embedded', env);
  const pids =
    'services' in stack.app
      ? Object.entries(stack.app.services).map(([service, p]) => ({ service, pid: p.process.child.pid! }))
      : [];
  const before = await Promise.all(pids.map(({ pid }) => processUsage(pid)));
  const db = new pg.Client({ connectionString: stack.app.databaseUrl });
  try {
    await db.connect();
    const domain = `${uniqueName('bench')}.test`;
    const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
    const tenant = await admin.createTenant(domain);
    await admin.createDomain(domain, tenant.id);
    const recipients: string[] = [];
    for (let i = 0; i < RECIPIENTS; i++) {
      const address = `user${i}@${domain}`;
      await admin.createAccount(address, randomBytes(12).toString('base64url'));
      recipients.push(address);
    }
    // Every 250 (wall clock, ms) by event id; every stored row's transaction time by event id.
    const acceptedAt = new Map<string, number>();
    const storedAt = new Map<string, number>();
    let sending = true;
    const poller = (async () => {
      let sendingEndedAt = Date.now();
      while (
        sending ||
        (storedAt.size < acceptedAt.size && Date.now() < sendingEndedAt + deliveryTimeoutMs)
      ) {
        if (sending) sendingEndedAt = Date.now();
        // By event id, not by "rows after the last id seen": concurrent deliveries commit out of
        // id order, and a high-water mark on ids would skip the rows that commit late. Indexed
        // (migration 0070), so polling does not scan every message.
        const pending = [...acceptedAt.keys()].filter((event) => !storedAt.has(event));
        if (pending.length > 0) {
          const { rows } = await db.query<{ event: string; at: number }>(
            `SELECT received_event_id AS event, extract(epoch FROM min(created_at)) * 1000 AS at
               FROM messages WHERE received_event_id = ANY($1::text[]) GROUP BY received_event_id`,
            [pending],
          );
          for (const row of rows) storedAt.set(row.event, Number(row.at));
        }
        await sleep(50);
      }
    })();

    const connections = await Promise.all(
      Array.from({ length: sessions }, () => connect(stack.app.ports.mx)),
    );
    const began = Date.now();
    let next = 0;
    await Promise.all(
      connections.map(async (connection) => {
        for (let n = next++; n < messages; n = next++) {
          const to = recipients[n % RECIPIENTS]!;
          const response = await send(connection, to, body(messageBytes, `bench ${n}`, to));
          const at = Date.now();
          const eventId = /queued as ([0-9a-f-]{36})/.exec(response)?.[1];
          if (!eventId) throw new Error(`no event id in "${response}"`);
          acceptedAt.set(eventId, at);
        }
        connection.quit();
      }),
    );
    const acceptedAll = Date.now();
    sending = false;
    await poller;

    const latencies = [...acceptedAt]
      .filter(([event]) => storedAt.has(event))
      .map(([event, at]) => storedAt.get(event)! - at)
      .sort((a, b) => a - b);
    const lastStored = Math.max(...storedAt.values());
    const acceptSeconds = (acceptedAll - began) / 1000;
    const endToEndSeconds = (lastStored - began) / 1000;
    const after = await Promise.all(pids.map(({ pid }) => processUsage(pid)));
    const processes = pids.map(({ service }, i) => ({
      service,
      cpuMsPerMessage: ((after[i]!.cpuSeconds - before[i]!.cpuSeconds) * 1000) / storedAt.size,
      idleRssMiB: before[i]!.rssKb / 1024,
      peakRssMiB: after[i]!.hwmKb / 1024,
    }));
    return {
      ...(processes.length > 0 ? { processes } : {}),
      stack: kind,
      messages,
      sessions,
      messageBytes,
      accepted: acceptedAt.size,
      stored: [...acceptedAt.keys()].filter((event) => storedAt.has(event)).length,
      acceptedPerSecond: acceptedAt.size / acceptSeconds,
      deliveredPerSecond: storedAt.size / endToEndSeconds,
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? NaN,
      },
      acceptSeconds,
      endToEndSeconds,
    };
  } finally {
    await db.end().catch(() => {});
    await stack.close();
  }
}

function table(results: StackResult[]): string {
  const header = [
    'stack',
    'N',
    'C',
    'stored',
    'accepted msg/s',
    'delivered msg/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
  ];
  const rows = results.map((r) => [
    r.stack,
    String(r.messages),
    String(r.sessions),
    String(r.stored),
    r.acceptedPerSecond.toFixed(0),
    r.deliveredPerSecond.toFixed(0),
    r.latencyMs.p50.toFixed(0),
    r.latencyMs.p90.toFixed(0),
    r.latencyMs.p99.toFixed(0),
  ]);
  return formatTable(header, rows);
}

const results: StackResult[] = [];
for (const kind of stacks) {
  console.error(
    `bench-ingest: ${kind}: ${messages} messages of ~${messageBytes} B over ${sessions} sessions`,
  );
  results.push(await benchStack(kind));
}
console.log(table(results));
for (const result of results.filter((r) => r.processes)) {
  console.log(
    formatTable(
      ['service', 'CPU ms/msg', 'idle RSS MiB', 'peak RSS MiB'],
      result.processes!.map((p) => [
        p.service,
        p.cpuMsPerMessage.toFixed(2),
        p.idleRssMiB.toFixed(0),
        p.peakRssMiB.toFixed(0),
      ]),
    ),
  );
}
const dir = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const file = `${dir}ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await writeFile(
  file,
  JSON.stringify(
    { date: new Date().toISOString(), host: { cpus: cpus().length, loadAverage: loadavg() }, results },
    null,
    2,
  ) + '\n',
);
console.log(`written to ${file}`);
