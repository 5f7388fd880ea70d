// correo against Postfix, end to end (a report, not a test). One generator for every system:
// Postfix's own smtp-source, with the same command line (N messages of ~4 KB over C reused
// sessions, then a sequential load over one session) against
//   - a private Postfix on loopback (bench/postfix-private.sh: own config, queue and mail
//     directories, virtual Maildir mailboxes, no TLS, its own port; no system instance touched),
//   - correo's embedded default (the all-in-one on embedded PostgreSQL, file blobs),
//   - correo on the Kafka stack (Kafka, the test PostgreSQL, MinIO, Redis), when KAFKA_BROKERS is set.
// Systems run back to back per load so that each ratio compares runs under the same machine load.
// It waits until every accepted message is in its mailbox and prints, per system and load:
// accepted msgs/s (first connect to last 250), delivered msgs/s (first connect to last stored),
// 250 -> stored p50/p99 (stored = Maildir rename for Postfix; the filing transaction's commit time
// for correo), CPU per message (the system's process tree, children included) and the ratio of
// delivered msgs/s to Postfix's.
//
//   make bench-vs-postfix
//   BENCH_MESSAGES=2000 BENCH_SESSIONS=20 BENCH_SEQUENTIAL_MESSAGES=500 BENCH_STACKS=postfix,embedded,kafka make bench-vs-postfix
//   BENCH_CPU_PROF=/tmp/prof   (correo runs with --cpu-prof, profiles written there on exit)
//   BENCH_STACKS=postfix,embedded:SMTP_INLINE_BODY_BYTES=0,embedded   (a correo system with
//     variables on top, `kind:VAR=value;VAR=value`, run beside the default in the same run: an A/B
//     under the same machine load)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { processCpuMs, reapedChildrenCpuMs, treeCpuMs } from './proc-cpu.js';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from '@correo/testkit';
import { AdminClient } from '../e2e/test/support/admin-client.js';
import { startMailStack, type MailStack } from '../e2e/test/support/stacks.js';
import { SMTP_LIMITS_OFF, option } from './options.js';
import { formatTable, percentile } from './report.js';

const messages = Number(option('messages', '2000'));
const sessions = Number(option('sessions', '20'));
const sequentialMessages = Number(option('sequential_messages', '500'));
const payloadBytes = Number(option('message_bytes', '4096'));
const systems = option('stacks', process.env.KAFKA_BROKERS ? 'postfix,embedded,kafka' : 'postfix,embedded')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const cpuProfileDir = option('cpu_prof', '');
const deliveryTimeoutMs = Number(option('timeout_ms', '600000'));
const note = option('note', '');
// Every load against every system this many times, alternately (an A/B in one run on a shared machine).
const rounds = Number(option('rounds', '1'));
const DOMAIN = 'bench.test';
const HERE = fileURLToPath(new URL('./', import.meta.url));

type SystemKind = 'postfix' | 'embedded' | 'kafka';

interface Load {
  name: string;
  sessions: number;
  messages: number;
  recipient: string;
}

const loads: Load[] = [
  { name: `${sessions} sessions`, sessions, messages, recipient: `user0@${DOMAIN}` },
  { name: '1 session', sessions: 1, messages: sequentialMessages, recipient: `user1@${DOMAIN}` },
];

/** What one system must offer the driver: its SMTP port, a way to see stored messages, its processes. */
interface System {
  kind: SystemKind;
  /** What the report calls it: the kind, with any variables set on top. */
  label: string;
  port: number;
  /** Root of the process tree whose CPU time counts (children included, reaped ones too). */
  pid(): number;
  /** Stored time (epoch ms) per queue id of `ids` that is already in its mailbox. */
  stored(ids: string[], recipient: string): Promise<Map<string, number>>;
  /** Messages per filing transaction (correo's batches), for the report. */
  messagesPerCommit?(ids: string[]): Promise<number>;
  /** A final, more precise reading of the stored times where the system can give one. */
  commitTimes?(ids: string[]): Promise<Map<string, number> | undefined>;
  /** Cumulative server counters (correo's own PostgreSQL only: the embedded stack), read before and after a load. */
  serverCounters?(): Promise<ServerCounters>;
  /**
   * The Node process's event-loop delay since the last call, p50/p99/max in ms (prom-client's
   * monitorEventLoopDelay histogram, reset by every scrape of /metrics).
   */
  eventLoopDelay?(): Promise<{ p50: number; p99: number; max: number }>;
  /** The heaviest statements of the last load (pg_stat_statements, when EMBEDDED_POSTGRES_SETTINGS preloads it). */
  statements?(reset: boolean): Promise<StatementCost[] | undefined>;
  cpuNote: string;
  close(): Promise<void>;
}

interface ServerCounters {
  /** pg_current_wal_lsn() in bytes. */
  walBytes: number;
  /** WAL fsyncs (pg_stat_io, object 'wal'). */
  walFsyncs: number;
  /** Committed transactions, every database of the cluster. */
  commits: number;
}

interface StatementCost {
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
  walBytes: number;
}

interface Result {
  system: string;
  load: string;
  sessions: number;
  messages: number;
  accepted: number;
  delivered: number;
  acceptedPerSecond: number;
  deliveredPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  cpuMsPerMessage: number;
  /** Of it, the root process alone (correo: the all-in-one's Node process, without its PostgreSQL). */
  rootCpuMsPerMessage: number;
  storedTimeSource: string;
  messagesPerCommit?: number;
  /** smtp-source's own CPU (user + system) per message: the generator's share of the 2 cores. */
  generatorCpuMsPerMessage: number;
  /** Per delivered message, from the system's own PostgreSQL (embedded stack only). */
  walBytesPerMessage?: number;
  walFsyncsPerMessage?: number;
  commitsPerMessage?: number;
  /** The all-in-one's event-loop delay during the load (ms): how long a ready socket waited for the loop. */
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  /** Where the PostgreSQL time of the load went, per statement (when pg_stat_statements is loaded). */
  statements?: {
    query: string;
    calls: number;
    rows: number;
    msPerMessage: number;
    walBytesPerMessage: number;
  }[];
}

const now = () => performance.timeOrigin + performance.now();

// ---------- the generator ----------

interface Sent {
  began: number;
  finished: number;
}

/**
 * smtp-source -v prints every reply; each "250 ... queued as ID" is stamped into `acceptedAt` (the 250
 * time by the queue id in the reply) as it arrives.
 */
async function smtpSource(port: number, load: Load, acceptedAt: Map<string, number>): Promise<Sent> {
  const args = [
    '-v',
    '-d',
    '-s',
    String(load.sessions),
    '-m',
    String(load.messages),
    '-l',
    String(payloadBytes),
  ];
  args.push('-M', 'bench.client.test', '-f', 'bench@remote.test', '-t', load.recipient, `127.0.0.1:${port}`);
  const began = now();
  const child = spawn('smtp-source', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const errors: string[] = [];
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    const queued = /<<< 250 .*queued as (\S+)/.exec(line);
    if (queued) acceptedAt.set(queued[1]!, now());
    else if (/<<< [45]\d\d/.test(line) || /fatal|error/i.test(line)) errors.push(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const finished = now();
  if (code !== 0 || errors.length > 0)
    console.error(
      `smtp-source exited ${code}; ${errors.length} errors, first: ${errors.slice(0, 3).join(' | ')}`,
    );
  return { began, finished };
}

// ---------- Postfix ----------

async function startPostfix(): Promise<System> {
  const dir = await mkdtemp(join(tmpdir(), 'correo-bench-postfix-'));
  const port = await freePort();
  const script = join(HERE, 'postfix-private.sh');
  const recipients = loads.map((l) => l.recipient);
  await run('bash', [script, 'start', dir, String(port), DOMAIN, ...recipients]);
  const masterPid = async () => Number((await readFile(join(dir, 'queue/pid/master.pid'), 'utf8')).trim());
  await waitFor('Postfix to listen', async () => (await masterPid().catch(() => 0)) > 0);
  const pid = await masterPid();
  // Each delivered file is read once (the poller runs every few ms and must not load the machine).
  const readFiles = new Set<string>();
  return {
    kind: 'postfix',
    label: 'postfix',
    port,
    pid: () => pid,
    cpuNote: 'master and all its daemons',
    async stored(_ids, recipient) {
      const folder = join(dir, 'mail', DOMAIN, recipient.split('@')[0]!, 'new');
      const found = new Map<string, number>();
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        if (readFiles.has(name)) continue;
        readFiles.add(name);
        const file = join(folder, name);
        // The queue id is in the Received header Postfix adds: "... (Postfix) with ESMTP id QID".
        const head = (await readFile(file, 'latin1')).slice(0, 2048);
        const id = /with E?SMTP id (\w+)/.exec(head)?.[1];
        if (!id) continue;
        // The rename into new/ is Postfix's commit: it sets the file's ctime.
        const { ctimeMs } = await stat(file);
        found.set(id, ctimeMs);
      }
      return found;
    },
    async close() {
      await run('bash', [script, 'stop', dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------- correo ----------

/**
 * `embedded` or `kafka`, optionally another checkout's code (`embedded@/tmp/main-checkout`, with its
 * own node_modules) and variables on top: `embedded:SMTP_INLINE_BODY_BYTES=0;VAR=value`.
 */
async function startCorreo(spec: string): Promise<System> {
  const [system, variables = ''] = spec.split(/:(.*)/s);
  const [kindName, root] = system!.split(/@(.*)/s);
  if (kindName !== 'embedded' && kindName !== 'kafka') throw new Error(`unknown system ${spec}`);
  const kind: 'embedded' | 'kafka' = kindName;
  const env: Record<string, string> = {
    SMTP_MAX_CONNECTIONS_PER_IP: String(sessions + 10),
    ...SMTP_LIMITS_OFF,
    LOG_LEVEL: 'error',
    ...Object.fromEntries(
      variables
        .split(';')
        .filter(Boolean)
        .map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]),
    ),
  };
  if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const stack: MailStack = await startMailStack(kind === 'kafka' ? 'distributed' : 'embedded', env, {
    nodeArgs,
    ...(root ? { root } : {}),
  });
  const db = new pg.Client({ connectionString: stack.app.databaseUrl });
  await db.connect();
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(`bench-${randomBytes(4).toString('hex')}`);
  await admin.createDomain(DOMAIN, tenant.id);
  for (const load of loads) await admin.createAccount(load.recipient, randomBytes(12).toString('base64url'));
  const commitTimestamps =
    (await db.query<{ track_commit_timestamp: string }>('SHOW track_commit_timestamp')).rows[0]
      ?.track_commit_timestamp === 'on';
  // Measurement only: EMBEDDED_POSTGRES_SETTINGS=shared_preload_libraries=pg_stat_statements on the system.
  const statementStats =
    kind === 'embedded' &&
    (
      await db.query<{ libraries: string }>('SELECT current_setting($1) AS libraries', [
        'shared_preload_libraries',
      ])
    ).rows[0]!.libraries.includes('pg_stat_statements') &&
    (await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'), true);
  return {
    kind,
    label: spec,
    port: stack.app.ports.mx,
    pid: () => stack.app.process.child.pid!,
    cpuNote:
      kind === 'embedded'
        ? 'the all-in-one and its embedded PostgreSQL'
        : 'the all-in-one only (Kafka, PostgreSQL, MinIO, Redis are shared)',
    async stored(ids) {
      const { rows } = await db.query<{ event: string }>(
        'SELECT DISTINCT received_event_id AS event FROM messages WHERE received_event_id = ANY($1::text[])',
        [ids],
      );
      const seen = now();
      return new Map(rows.map((row) => [row.event, seen]));
    },
    async messagesPerCommit(ids) {
      const { rows } = await db.query<{ per: number }>(
        `SELECT count(*)::float / greatest(count(DISTINCT xmin::text), 1) AS per
           FROM messages WHERE received_event_id = ANY($1::text[])`,
        [ids],
      );
      return Number(rows[0]?.per ?? NaN);
    },
    ...(kind === 'embedded'
      ? {
          async serverCounters() {
            await db.query('SELECT pg_stat_clear_snapshot()');
            const { rows } = await db.query<{ wal: string; fsyncs: string; commits: string }>(
              `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal,
                      (SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal')::text AS fsyncs,
                      (SELECT sum(xact_commit) FROM pg_stat_database)::text AS commits`,
            );
            return {
              walBytes: Number(rows[0]!.wal),
              walFsyncs: Number(rows[0]!.fsyncs),
              commits: Number(rows[0]!.commits),
            };
          },
          async statements(reset: boolean) {
            if (!statementStats) return undefined;
            if (reset) {
              await db.query('SELECT pg_stat_statements_reset()');
              return [];
            }
            const { rows } = await db.query<{
              query: string;
              calls: string;
              rows: string;
              ms: number;
              wal: string;
            }>(
              `SELECT query, calls::text, rows::text, total_exec_time AS ms, wal_bytes::text AS wal
                 FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
                ORDER BY total_exec_time DESC LIMIT 12`,
            );
            return rows.map((row) => ({
              query: row.query.replace(/\s+/g, ' ').slice(0, 160),
              calls: Number(row.calls),
              rows: Number(row.rows),
              totalMs: row.ms,
              walBytes: Number(row.wal),
            }));
          },
        }
      : {}),
    async eventLoopDelay() {
      const text = await stack.app.metrics();
      const seconds = (name: string) =>
        Number(
          new RegExp(`^correo_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN,
        );
      return { p50: seconds('p50') * 1000, p99: seconds('p99') * 1000, max: seconds('max') * 1000 };
    },
    async commitTimes(ids) {
      if (!commitTimestamps) return undefined;
      const { rows } = await db.query<{ event: string; at: number }>(
        `SELECT received_event_id AS event, extract(epoch FROM min(pg_xact_commit_timestamp(xmin))) * 1000 AS at
           FROM messages WHERE received_event_id = ANY($1::text[]) GROUP BY received_event_id`,
        [ids],
      );
      return new Map(rows.map((row) => [row.event, Number(row.at)]));
    },
    async close() {
      await db.end().catch(() => {});
      await stack.close();
    },
  };
}

// ---------- one load against one system ----------

async function measure(system: System, load: Load): Promise<Result> {
  const cpuBefore = { tree: await treeCpuMs(system.pid()), root: await processCpuMs(system.pid()) };
  const acceptedAt = new Map<string, number>();
  const storedAt = new Map<string, number>();
  let finished: number | undefined = undefined;
  // Polls while the load runs too, so that a first-seen time is close when nothing better exists.
  const poller = (async () => {
    while (
      finished === undefined ||
      (storedAt.size < acceptedAt.size && now() < finished + deliveryTimeoutMs)
    ) {
      const pending = [...acceptedAt.keys()].filter((id) => !storedAt.has(id));
      if (pending.length > 0) {
        for (const [id, at] of await system.stored(pending, load.recipient)) storedAt.set(id, at);
      }
      await sleep(25);
    }
  })();
  const countersBefore = await system.serverCounters?.();
  await system.eventLoopDelay?.();
  await system.statements?.(true);
  const generatorBefore = await reapedChildrenCpuMs();
  const sent = await smtpSource(system.port, load, acceptedAt);
  const generatorMs = (await reapedChildrenCpuMs()) - generatorBefore;
  finished = sent.finished;
  await poller;
  const cpuAfter = { tree: await treeCpuMs(system.pid()), root: await processCpuMs(system.pid()) };
  const eventLoopDelayMs = await system.eventLoopDelay?.();
  // The statistics of other backends reach the shared counters within a second of their last commit.
  const countersAfter = countersBefore && (await sleep(1100), await system.serverCounters!());
  const statements = await system.statements?.(false);

  let source = system.kind === 'postfix' ? 'Maildir rename (ctime)' : 'first seen by a 25 ms poll';
  const commits = await system.commitTimes?.([...acceptedAt.keys()]);
  if (commits && commits.size > 0) {
    for (const [id, at] of commits) storedAt.set(id, at);
    source = 'commit timestamp';
  }
  const latencies = [...acceptedAt]
    .filter(([id]) => storedAt.has(id))
    .map(([id, at]) => Math.max(0, storedAt.get(id)! - at))
    .sort((a, b) => a - b);
  const delivered = latencies.length;
  const lastAccepted = Math.max(...acceptedAt.values());
  const lastStored = Math.max(...[...acceptedAt.keys()].map((id) => storedAt.get(id) ?? 0));
  return {
    system: system.label,
    load: load.name,
    sessions: load.sessions,
    messages: load.messages,
    accepted: acceptedAt.size,
    delivered,
    acceptedPerSecond: acceptedAt.size / ((lastAccepted - sent.began) / 1000),
    deliveredPerSecond: delivered / ((lastStored - sent.began) / 1000),
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
    },
    cpuMsPerMessage: (cpuAfter.tree - cpuBefore.tree) / Math.max(1, delivered),
    rootCpuMsPerMessage: (cpuAfter.root - cpuBefore.root) / Math.max(1, delivered),
    storedTimeSource: source,
    generatorCpuMsPerMessage: generatorMs / Math.max(1, acceptedAt.size),
    ...(eventLoopDelayMs ? { eventLoopDelayMs } : {}),
    ...(countersBefore && countersAfter
      ? {
          walBytesPerMessage: (countersAfter.walBytes - countersBefore.walBytes) / Math.max(1, delivered),
          walFsyncsPerMessage: (countersAfter.walFsyncs - countersBefore.walFsyncs) / Math.max(1, delivered),
          commitsPerMessage: (countersAfter.commits - countersBefore.commits) / Math.max(1, delivered),
        }
      : {}),
    ...(statements
      ? {
          statements: statements.map((st) => ({
            query: st.query,
            calls: st.calls,
            rows: st.rows,
            msPerMessage: st.totalMs / Math.max(1, delivered),
            walBytesPerMessage: st.walBytes / Math.max(1, delivered),
          })),
        }
      : {}),
    ...(system.messagesPerCommit
      ? { messagesPerCommit: await system.messagesPerCommit([...acceptedAt.keys()]) }
      : {}),
  };
}

// ---------- plumbing ----------

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function table(results: Result[]): string {
  const header = [
    'load',
    'system',
    'N',
    'stored',
    'accept msg/s',
    'deliver msg/s',
    'p50 ms',
    'p99 ms',
    'CPU ms/msg',
    'of it root',
    'msgs/commit',
    'gen ms/msg',
    'WAL KB/msg',
    'fsyncs/msg',
    'commits/msg',
    'loop delay p99/max ms',
    'vs Postfix',
  ];
  const rows = results.map((r) => {
    // The Postfix line of the same round (the nearest before this one), else of the load.
    const before = results.slice(0, results.indexOf(r) + 1).reverse();
    const postfix =
      before.find((p) => p.system === 'postfix' && p.load === r.load) ??
      results.find((p) => p.system === 'postfix' && p.load === r.load);
    const ratio = postfix ? (r.deliveredPerSecond / postfix.deliveredPerSecond).toFixed(2) + 'x' : '-';
    return [
      r.load,
      r.system,
      String(r.messages),
      String(r.delivered),
      r.acceptedPerSecond.toFixed(1),
      r.deliveredPerSecond.toFixed(1),
      r.latencyMs.p50.toFixed(0),
      r.latencyMs.p99.toFixed(0),
      r.cpuMsPerMessage.toFixed(2),
      r.rootCpuMsPerMessage.toFixed(2),
      r.messagesPerCommit === undefined ? '-' : r.messagesPerCommit.toFixed(1),
      r.generatorCpuMsPerMessage.toFixed(2),
      r.walBytesPerMessage === undefined ? '-' : (r.walBytesPerMessage / 1024).toFixed(1),
      r.walFsyncsPerMessage === undefined ? '-' : r.walFsyncsPerMessage.toFixed(2),
      r.commitsPerMessage === undefined ? '-' : r.commitsPerMessage.toFixed(2),
      r.eventLoopDelayMs ? `${r.eventLoopDelayMs.p99.toFixed(1)}/${r.eventLoopDelayMs.max.toFixed(1)}` : '-',
      ratio,
    ];
  });
  return formatTable(header, rows);
}

// ---------- main ----------

const started: System[] = [];
const results: Result[] = [];
const load1 = loadavg();
try {
  for (const spec of systems) {
    console.error(`bench-vs-postfix: starting ${spec}`);
    started.push(spec === 'postfix' ? await startPostfix() : await startCorreo(spec));
  }
  for (const load of Array.from({ length: rounds }, () => loads).flat()) {
    for (const system of started) {
      console.error(
        `bench-vs-postfix: ${system.label}: ${load.messages} x ${payloadBytes} B over ${load.name}`,
      );
      results.push(await measure(system, load));
    }
  }
} finally {
  for (const system of started.reverse()) await system.close().catch((e) => console.error(e));
}
console.log(table(results));
for (const r of results.filter((r) => r.statements))
  console.log(
    `${r.system}, ${r.load}: PostgreSQL time per message by statement (pg_stat_statements):\n` +
      r
        .statements!.map(
          (st) =>
            `  ${st.msPerMessage.toFixed(3)} ms  ${(st.walBytesPerMessage / 1024).toFixed(2)} KB WAL  ${st.calls} calls  ${st.rows} rows  ${st.query}`,
        )
        .join('\n'),
  );
console.log(
  `CPU counts ("of it root": the root process alone, for correo its Node process without PostgreSQL): ${started
    .reverse()
    .map((s) => `${s.label}: ${s.cpuNote}`)
    .join(
      '; ',
    )}. Stored time: ${[...new Set(results.map((r) => `${r.system}: ${r.storedTimeSource}`))].join('; ')}.`,
);
console.log(
  `host: ${cpus().length} cores, load average ${load1.map((l) => l.toFixed(2)).join(' ')} at start${note ? `; ${note}` : ''}`,
);
const dir = join(HERE, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `vs-postfix-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  JSON.stringify(
    { date: new Date().toISOString(), host: { cpus: cpus().length, loadAverage: load1 }, note, results },
    null,
    2,
  ) + '\n',
);
console.log(`written to ${file}`);
