// correo's IMAP gateway against Dovecot on the same load (a report, not a test).
//
// Starts correo (by default the all-in-one process as `make dev` runs it; BENCH_KIND=embedded or
// distributed: the gateway in this process on the test backends) and a PRIVATE Dovecot from Debian's dovecot-imapd: its own
// config, base and state directories under a temporary directory, passwd-file users with passwords
// hashed with correo's argon2id parameters, loopback only, a port chosen free; never the system
// instance. Both get the same accounts and the same messages (APPENDed over IMAP), then the same
// client mix from a separate process (so that the load generator does not share an event loop with
// correo): C clients, each on an account, running SELECT, FETCH flags, FETCH envelope/bodystructure,
// FETCH body, STORE, APPEND, EXPUNGE, SEARCH, once with one login per client and once with LOGIN ...
// LOGOUT around every cycle. Prints ops/s and p50/p99 per command for both and the ratio.
//
//   make bench-imap-vs-dovecot                          the embedded default as `make dev` runs it: the
//                                                       all-in-one process with its embedded PostgreSQL
//   BENCH_KIND=embedded make bench-imap-vs-dovecot      the gateway in this process on the test backends'
//                                                       PostgreSQL, files for blobs, in-process notify
//   BENCH_KIND=distributed make bench-imap-vs-dovecot   correo on MinIO blobs, Redis notify/limits
//   BENCH_CPU_PROF=/tmp/prof                            --cpu-prof for correo (all-in-one: its process)
//   BENCH_BASELINE=/tmp/base                            also runs the all-in-one of another checkout
//                                                       (`bash bench/checkout-for-ab.sh main /tmp/base`)
//                                                       under the same load just before this one's: an A/B
//   BENCH_ROUNDS=4                                      the loads four times; with BENCH_BASELINE the baseline
//                                                       and this checkout alternate (odd rounds baseline first,
//                                                       even rounds this checkout first), then Dovecot: runs
//                                                       in one window compare fairly on a shared machine
//   BENCH_GATEWAYS=2                                    the clients spread over two IMAP event loops: the
//                                                       all-in-one's and an imap-gateway process (its main.ts)
//                                                       over the all-in-one's PostgreSQL and files; with
//                                                       BENCH_KIND=distributed, two imap-gateway processes (as
//                                                       two pods). Against one event loop on the same stack in
//                                                       the same run: does a second event loop help?
//   BENCH_LOGIN_PER_CYCLE=0                             skips the LOGIN ... LOGOUT per cycle load
//   Each table also gives the CPU time (user + system) the server's process tree used per cycle.
//   BENCH_CLIENTS=20 BENCH_USERS=20 BENCH_MESSAGES=100 BENCH_SECONDS=15
import { execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '@correo/auth';
import { randomBytes } from 'node:crypto';
import {
  LineClient,
  listenerPort,
  makeDataDir,
  removeDataDir,
  serviceProcessEnv,
  serviceScript,
  startAllInOneProcess,
  startReadyServiceProcess,
  uniqueName,
} from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import type { AllInOneProcess } from '@correo/testkit';
import { AdminClient } from '../e2e/test/support/admin-client.js';
import { ImapTestStack, rawMessage } from '../services/imap-gateway/test/helpers/stack.js';
import { adapterEnv } from '@correo/testkit/stack';
import type { StackKind } from '@correo/testkit/stack';
import { treeCpuMsByName } from './proc-cpu.js';

const clients = Number(process.env.BENCH_CLIENTS ?? 20);
const users = Number(process.env.BENCH_USERS ?? 20);
const perUser = Number(process.env.BENCH_MESSAGES ?? 100);
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const kind = (process.env.BENCH_KIND ?? 'all-in-one') as StackKind | 'all-in-one';
const cpuProfileDir = process.env.BENCH_CPU_PROF;
// Another checkout (bench/checkout-for-ab.sh makes one) whose all-in-one
// runs the same load right before this one's, in the same run: an A/B under the same machine load.
const baselineRoot = process.env.BENCH_BASELINE;
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const loginModes = process.env.BENCH_LOGIN_PER_CYCLE === '0' ? [false] : [false, true];
// N IMAP event loops sharing the clients: the all-in-one and N - 1 imap-gateway processes
// (services/imap-gateway/src/main.ts) over its PostgreSQL and files, or (distributed) N imap-gateway
// processes, as N pods, instead of the gateway in this process. The same load then runs on one event loop
// of the same stack (the all-in-one alone, or one more gateway process) in the baseline's slot.
const gatewayProcesses = Number(process.env.BENCH_GATEWAYS ?? 0);
if (gatewayProcesses > 1 && process.env.BENCH_BASELINE)
  throw new Error('BENCH_GATEWAYS and BENCH_BASELINE both take the baseline slot: use one');
// Environment for this checkout's all-in-one only (NAME=value, separated by ';'): an experiment against
// the baseline, e.g. BENCH_CORREO_ENV='PGOPTIONS=-c plan_cache_mode=force_generic_plan'.
const experimentEnv = Object.fromEntries(
  (process.env.BENCH_CORREO_ENV ?? '')
    .split(';')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

/** The commands of one cycle, in order; each is timed on its own. */
const COMMANDS = [
  'LOGIN',
  'SELECT',
  'FETCH flags',
  'FETCH envelope',
  'FETCH body',
  'STORE',
  'APPEND',
  'EXPUNGE',
  'SEARCH',
  'LOGOUT',
] as const;
type Command = (typeof COMMANDS)[number];

interface Target {
  name: string;
  port: number;
  /** When given, client c connects to ports[c % ports.length] (several gateway processes). */
  ports?: number[];
  users: string[];
  password: string;
}

function body(lines: number): string[] {
  return Array.from(
    { length: lines },
    (_, i) => `Line ${i} of a benchmark message, long enough to look like mail.`,
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function append(client: LineClient, message: string): Promise<void> {
  const tag = client.allocateTag();
  client.write(`${tag} APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
  const done = await client.collect(tag);
  if (!done.status.startsWith('OK')) throw new Error(`APPEND: ${done.status}`);
}

/** The same messages for every account of both servers. */
async function fill(port: number, address: string, password: string): Promise<void> {
  const client = await LineClient.connect(port, { literals: true });
  await client.readLine();
  const login = await client.command(`LOGIN "${address}" "${password}"`);
  if (!login.status.startsWith('OK')) throw new Error(`LOGIN ${address}: ${login.status}`);
  for (let m = 0; m < perUser; m++)
    await append(client, rawMessage(`bench ${m}`, body(60), `Sender ${m % 7} <s${m % 7}@remote.test>`));
  await client.command('LOGOUT');
  client.destroy();
}

// ---- Dovecot, private ----

async function startDovecot(
  dir: string,
  port: number,
  addresses: string[],
  password: string,
): Promise<ChildProcess> {
  await mkdir(join(dir, 'run'), { recursive: true });
  await mkdir(join(dir, 'state'), { recursive: true });
  await mkdir(join(dir, 'home'), { recursive: true });
  // Dovecot's auth and mail processes run as its own user: they must reach the users file and homes.
  await chmod(dir, 0o755);
  execFileSync('chown', ['dovecot:dovecot', join(dir, 'home')]);
  // The same argon2id parameters correo stores (Dovecot verifies the PHC string through libsodium),
  // so that LOGIN costs the same password check on both sides.
  // libsodium reads the parameters in the order m, t, p; node's argon2 writes m, p, t.
  const hash = (await hashPassword(password)).replace(/m=(\d+),p=(\d+),t=(\d+)/, 'm=$1,t=$3,p=$2');
  await writeFile(join(dir, 'users'), addresses.map((a) => `${a}:{ARGON2ID}${hash}::::\n`).join(''));
  const config = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_max_userip_connections = 1000
first_valid_uid = 1
default_process_limit = 1000
default_client_limit = 4000
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/home/%u
}
namespace inbox {
  inbox = yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
}
service stats {
  inet_listener http {
    port = 0
  }
}
`;
  await writeFile(join(dir, 'dovecot.conf'), config);
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'inherit' });
  // Up when the port answers with a greeting.
  for (let i = 0; i < 100; i++) {
    try {
      const client = await LineClient.connect(port, { literals: true });
      await client.readLine();
      client.destroy();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new Error(`Dovecot did not come up; see ${dir}/dovecot.log`);
}

// ---- correo as `make dev` runs it ----

/** The all-in-one (from this checkout, or from `repoRoot`: BENCH_BASELINE) with the bench's accounts. */
async function startCorreo(
  repoRoot: string | undefined,
): Promise<{ app: AllInOneProcess; addresses: string[]; password: string }> {
  const app = await startAllInOneProcess({
    env: {
      IMAP_MAX_CONNECTIONS: '100000',
      IMAP_MAX_CONNECTIONS_PER_IP: '100000',
      IMAP_MAX_CONNECTIONS_PER_USER: '100000',
      IMAP_MAX_CONNECTIONS_PER_USER_IP: '100000',
      ...(repoRoot ? {} : experimentEnv),
    },
    nodeArgs: cpuProfileDir && !repoRoot ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    ...(repoRoot ? { root: repoRoot } : {}),
  });
  const admin = new AdminClient(app.adminUrl, app.adminToken);
  const domain = `${uniqueName('imapbench')}.test`.toLowerCase();
  const tenant = await admin.createTenant(domain);
  await admin.createDomain(domain, tenant.id);
  const password = randomBytes(12).toString('base64url');
  const addresses: string[] = [];
  for (let u = 0; u < users; u++)
    addresses.push((await admin.createAccount(`bench${u}@${domain}`, password)).address);
  return { app, addresses, password };
}

// ---- the load, in a child process ----

interface LoadResult {
  elapsed: number;
  samples: Record<string, number[]>;
  /** CPU seconds (user + system) the load generator itself used: it shares the machine with the server. */
  generatorCpu: number;
}

/** Gateway processes (services/imap-gateway/src/main.ts) started for BENCH_GATEWAYS. */
interface GatewayProcesses {
  pids: number[];
  ports: number[];
  stop(): Promise<void>;
}

/**
 * `count` imap-gateway processes over the backends `adapters` names (adapterEnv), with `dataDir`'s TLS
 * pair; plaintext LOGIN on loopback and no per-address cap, as the load needs.
 */
async function startGatewayProcesses(
  count: number,
  dataDir: string,
  adapters: Record<string, string>,
): Promise<GatewayProcesses> {
  const env = serviceProcessEnv(dataDir, {
    ...adapters,
    LOG_LEVEL: 'info',
    IMAP_MAX_CONNECTIONS_PER_IP: '100000',
    IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  });
  const starts = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startReadyServiceProcess(serviceScript('imap-gateway'), env, { name: `imap-gateway#${i}` }),
    ),
  );
  const started = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
  const failed = starts.find((start) => start.status === 'rejected');
  if (failed) {
    // None left running behind a failed start.
    await Promise.all(started.map((s) => s.process.stop('SIGTERM')));
    throw failed.reason;
  }
  return {
    pids: started.map((s) => s.process.child.pid!),
    ports: started.map((s) => listenerPort(s.listeners['IMAP (STARTTLS)']!)),
    async stop() {
      await Promise.all(started.map((s) => s.process.stop('SIGTERM')));
    },
  };
}

/**
 * CPU seconds (user + system) used so far by processes and all their descendants, by program name,
 * summed over `rootPids` (several gateway processes count as one server).
 */
async function treeCpuSeconds(...rootPids: number[]): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  for (const pid of rootPids)
    for (const [name, ms] of await treeCpuMsByName(pid)) used.set(name, (used.get(name) ?? 0) + ms / 1000);
  return used;
}

/** What `after` used more than `before`, by program name. */
function cpuSince(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([name, s]) => [name, s - (before.get(name) ?? 0)]));
}

async function load(target: Target, perCycleLogin: boolean): Promise<LoadResult> {
  const samples: Record<string, number[]> = Object.fromEntries(COMMANDS.map((c) => [c, []]));
  const until = performance.now() + seconds * 1000;
  // A new message (its own Message-ID) for every APPEND, as a client's Sent or Drafts copy is. One message
  // appended and expunged over and over by every client made correo's content-addressed blob a single
  // hot row (its collection candidate, taken and released by every client's APPEND and EXPUNGE in turn)
  // that no real load has; Dovecot stores each copy on its own either way.
  const appendedBody = body(40);
  const timed = async (client: LineClient, name: Command, line: string | (() => Promise<void>)) => {
    const start = performance.now();
    if (typeof line === 'string') {
      const done = await client.command(line);
      if (!done.status.startsWith('OK'))
        throw new Error(`${target.name} ${line.slice(0, 40)}: ${done.status}`);
      samples[name]!.push(performance.now() - start);
      return done;
    }
    await line();
    samples[name]!.push(performance.now() - start);
    return null;
  };
  const start = performance.now();
  const cpuAtStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const address = target.users[c % target.users.length]!;
      let client: LineClient | null = null;
      while (performance.now() < until) {
        if (!client) {
          client = await LineClient.connect(target.ports?.[c % target.ports.length] ?? target.port, {
            literals: true,
          });
          await client.readLine();
          await timed(client, 'LOGIN', `LOGIN "${address}" "${target.password}"`);
        }
        const selected = await timed(client, 'SELECT', 'SELECT INBOX');
        const exists = Number(/\* (\d+) EXISTS/.exec(selected!.untagged.join('\n'))?.[1] ?? 1);
        const n = Math.max(1, Math.ceil(Math.random() * exists));
        await timed(client, 'FETCH flags', 'FETCH 1:* (UID FLAGS)');
        await timed(client, 'FETCH envelope', `FETCH ${Math.max(1, n - 9)}:${n} (ENVELOPE BODYSTRUCTURE)`);
        await timed(client, 'FETCH body', `FETCH ${n} (UID RFC822.SIZE BODY.PEEK[])`);
        await timed(client, 'STORE', `STORE ${n} ${Math.random() < 0.5 ? '+' : '-'}FLAGS (\\Seen \\Flagged)`);
        const c2 = client;
        const message = rawMessage('appended by the benchmark', appendedBody);
        await timed(client, 'APPEND', () => append(c2, message));
        // The message appended above goes again: the mailbox keeps its size.
        await client.command(`UID STORE ${'*'} +FLAGS.SILENT (\\Deleted)`);
        await timed(client, 'EXPUNGE', 'EXPUNGE');
        await timed(
          client,
          'SEARCH',
          Math.random() < 0.5 ? 'SEARCH UNSEEN' : 'SEARCH FROM s3 SUBJECT "bench 3"',
        );
        if (perCycleLogin) {
          await timed(client, 'LOGOUT', 'LOGOUT');
          client.destroy();
          client = null;
        }
      }
      if (client) {
        await timed(client, 'LOGOUT', 'LOGOUT');
        client.destroy();
      }
    }),
  );
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    elapsed: (performance.now() - start) / 1000,
    samples,
    generatorCpu: (cpu.user + cpu.system) / 1e6,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Row {
  ops: number;
  p50: number;
  p99: number;
}

function summarize(result: LoadResult): Map<string, Row> {
  const rows = new Map<string, Row>();
  let total = 0;
  for (const name of COMMANDS) {
    const list = [...result.samples[name]!].sort((a, b) => a - b);
    total += list.length;
    rows.set(name, {
      ops: list.length / result.elapsed,
      p50: percentile(list, 50),
      p99: percentile(list, 99),
    });
  }
  rows.set('all', { ops: total / result.elapsed, p50: NaN, p99: NaN });
  return rows;
}

function table(
  title: string,
  correo: Map<string, Row>,
  dovecot: Map<string, Row>,
  cpu: {
    correo: Map<string, number>;
    dovecot: Map<string, number>;
    correoCycles: number;
    dovecotCycles: number;
    correoGenerator: number;
    dovecotGenerator: number;
  },
): string {
  const msPer = (seconds: number, cycles: number) => ((seconds * 1000) / Math.max(1, cycles)).toFixed(2);
  const perCycle = (used: Map<string, number>, cycles: number) => {
    const ms = (seconds: number) => msPer(seconds, cycles);
    const all = [...used.values()].reduce((a, b) => a + b, 0);
    const parts = [...used]
      .filter(([, s]) => s >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${ms(s)}`);
    return `${ms(all)} ms (${parts.join(', ')}; ${all.toFixed(1)} s in all)`;
  };
  const lines = [
    `### ${title}`,
    '',
    `CPU (user + system of the server's whole process tree) per cycle of 8 commands: correo ` +
      `${perCycle(cpu.correo, cpu.correoCycles)}; Dovecot ${perCycle(cpu.dovecot, cpu.dovecotCycles)}. ` +
      `The load generator's own: ${msPer(cpu.correoGenerator, cpu.correoCycles)} ms against correo, ` +
      `${msPer(cpu.dovecotGenerator, cpu.dovecotCycles)} ms against Dovecot`,
    '',
    '| command | correo ops/s | correo p50 ms | correo p99 ms | Dovecot ops/s | Dovecot p50 ms | Dovecot p99 ms | ops/s ratio | p99 ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const f = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2));
  for (const name of [...COMMANDS, 'all']) {
    const c = correo.get(name)!;
    const d = dovecot.get(name)!;
    if (c.ops === 0 && d.ops === 0) continue;
    lines.push(
      `| ${name} | ${f(c.ops)} | ${f(c.p50)} | ${f(c.p99)} | ${f(d.ops)} | ${f(d.p50)} | ${f(d.p99)} | ` +
        `${d.ops ? `${(c.ops / d.ops).toFixed(2)}x` : ''} | ${d.p99 ? `${(c.p99 / d.p99).toFixed(1)}x` : ''} |`,
    );
  }
  return lines.join('\n');
}

/** Runs one load in a child process and returns its samples. */
function runLoad(target: Target, perCycleLogin: boolean): Promise<LoadResult> {
  const child = fork(fileURLToPath(import.meta.url), ['load'], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', (result) => resolve(result as LoadResult));
    child.once('exit', (code) => code && reject(new Error(`load exited with ${code}`)));
    child.send({ target, perCycleLogin });
  });
}

if (process.argv[2] === 'load') {
  process.once('message', (message: { target: Target; perCycleLogin: boolean }) => {
    void load(message.target, message.perCycleLogin).then((result) =>
      process.send!(result, () => process.exit(0)),
    );
  });
} else {
  const dir = await mkdtemp(join(tmpdir(), 'bench-dovecot-'));
  let dovecot: ChildProcess | null = null;
  let stack: ImapTestStack | null = null;
  let app: AllInOneProcess | null = null;
  let baseline: Awaited<ReturnType<typeof startCorreo>> | null = null;
  // BENCH_GATEWAYS: the event loops the clients are spread over, and the one that runs the same load alone.
  let loops: { pids: number[]; ports: number[] } | null = null;
  let oneLoop: { pid: number; port: number } | null = null;
  let gateways: GatewayProcesses | null = null;
  try {
    let imapPort: number;
    let password: string;
    const addresses: string[] = [];
    if (kind === 'all-in-one') {
      const started = await startCorreo(undefined);
      app = started.app;
      password = started.password;
      addresses.push(...started.addresses);
      imapPort = app.ports.imap;
      if (baselineRoot) baseline = await startCorreo(baselineRoot);
      if (gatewayProcesses > 1) {
        // N - 1 more gateways over the all-in-one's own PostgreSQL (its Unix socket), blobs and TLS
        // pair; the notify and limits stay per process, which this load (one session per account) needs
        // no more of.
        const socketDir = join(app.dataDir, 'postgres', 'run');
        gateways = await startGatewayProcesses(
          gatewayProcesses - 1,
          app.dataDir,
          adapterEnv('embedded', `${app.databaseUrl}?host=${encodeURIComponent(socketDir)}`),
        );
        oneLoop = { pid: app.process.child.pid!, port: app.ports.imap };
        loops = { pids: [oneLoop.pid, ...gateways.pids], ports: [oneLoop.port, ...gateways.ports] };
      }
    } else if (gatewayProcesses > 0) {
      if (kind !== 'distributed') throw new Error('BENCH_GATEWAYS: the all-in-one or BENCH_KIND=distributed');
      stack = await ImapTestStack.create(kind, { blobsAtRoot: true });
      const dataDir = await makeDataDir('bench-gateways-');
      await loadTlsMaterial({ dataDir, hostname: 'localhost' });
      stack.defer(() => removeDataDir(dataDir));
      // The last one runs the load alone.
      gateways = await startGatewayProcesses(gatewayProcesses + 1, dataDir, stack.env());
      loops = { pids: gateways.pids.slice(0, -1), ports: gateways.ports.slice(0, -1) };
      oneLoop = { pid: gateways.pids.at(-1)!, port: gateways.ports.at(-1)! };
      for (let u = 0; u < users; u++) addresses.push((await stack.account(`bench${u}`)).address);
      imapPort = loops.ports[0]!;
      password = stack.password;
    } else {
      stack = await ImapTestStack.create(kind);
      const gateway = await stack.gateway({
        maxConnectionsPerIp: 100_000,
        maxConnectionsPerUser: 100_000,
        maxConnectionsPerUserIp: 100_000,
      });
      for (let u = 0; u < users; u++) addresses.push((await stack.account(`bench${u}`)).address);
      imapPort = gateway.ports.imap;
      password = stack.password;
    }
    const dovecotPort = await freePort();
    dovecot = await startDovecot(dir, dovecotPort, addresses, password);
    const targets: Target[] = [
      {
        name: 'correo',
        port: imapPort,
        ...(loops ? { ports: loops.ports } : {}),
        users: addresses,
        password,
      },
      { name: 'Dovecot', port: dovecotPort, users: addresses, password },
    ];
    if (oneLoop)
      targets.push({ name: 'correo, one event loop', port: oneLoop.port, users: addresses, password });
    if (baseline) {
      targets.push({
        name: 'correo baseline',
        port: baseline.app.ports.imap,
        users: baseline.addresses,
        password: baseline.password,
      });
    }
    const fillStart = performance.now();
    for (const target of targets)
      await Promise.all(target.users.map((a) => fill(target.port, a, target.password)));
    console.log(
      `imap (${kind}) vs Dovecot, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}: ${clients} clients over ${users} users x ${perUser} messages (~4 KB), ${seconds} s per run ` +
        `(filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s)`,
    );
    const out: string[] = [];
    const dovecotByMode = new Map<
      string,
      { rows: Map<string, Row>; cpu: Map<string, number>; cycles: number; generator: number }
    >();
    const baselineRuns: {
      key: string;
      label: string;
      rows: Map<string, Row>;
      cpu: Map<string, number>;
      cycles: number;
      generator: number;
    }[] = [];
    for (let round = 1; round <= rounds; round++)
      for (const perCycleLogin of loginModes) {
        const label = `${rounds > 1 ? `round ${round}, ` : ''}${perCycleLogin ? 'LOGIN ... LOGOUT around every cycle' : 'one login per client'}`;
        // Even rounds run this checkout first: neither side always gets the first (often quieter) slot.
        const runBaseline = async () => {
          const pid = baseline ? baseline.app.process.child.pid! : oneLoop?.pid;
          if (pid === undefined) return;
          const before = await treeCpuSeconds(pid);
          const base = await runLoad(targets[2]!, perCycleLogin);
          baselineRuns.push({
            key: `${round}/${perCycleLogin}`,
            label: `${label}, load average ${loadavg()[0]!.toFixed(2)}`,
            rows: summarize(base),
            cpu: cpuSince(before, await treeCpuSeconds(pid)),
            cycles: base.samples.SELECT!.length,
            generator: base.generatorCpu,
          });
        };
        if (round % 2 === 1) await runBaseline();
        const correoPids = loops?.pids ?? [app ? app.process.child.pid! : process.pid];
        const cpuBefore = await treeCpuSeconds(...correoPids);
        const correo = await runLoad(targets[0]!, perCycleLogin);
        const correoCpu = cpuSince(cpuBefore, await treeCpuSeconds(...correoPids));
        if (round % 2 === 0) await runBaseline();
        const dovecotBefore = await treeCpuSeconds(dovecot.pid!);
        const dove = await runLoad(targets[1]!, perCycleLogin);
        const dovecotCpu = cpuSince(dovecotBefore, await treeCpuSeconds(dovecot.pid!));
        dovecotByMode.set(`${round}/${perCycleLogin}`, {
          rows: summarize(dove),
          cpu: dovecotCpu,
          cycles: dove.samples.SELECT!.length,
          generator: dove.generatorCpu,
        });
        out.push(
          table(`${label} (load average ${loadavg()[0]!.toFixed(2)})`, summarize(correo), summarize(dove), {
            correo: correoCpu,
            dovecot: dovecotCpu,
            correoCycles: correo.samples.SELECT!.length,
            dovecotCycles: dove.samples.SELECT!.length,
            correoGenerator: correo.generatorCpu,
            dovecotGenerator: dove.generatorCpu,
          }),
        );
      }
    for (const run of baselineRuns) {
      const dovecotRows = dovecotByMode.get(run.key)!;
      out.push(
        table(
          `${baselineRoot ? `baseline (${baselineRoot})` : 'one event loop'}, ${run.label}`,
          run.rows,
          dovecotRows.rows,
          {
            correo: run.cpu,
            dovecot: dovecotRows.cpu,
            correoCycles: run.cycles,
            dovecotCycles: dovecotRows.cycles,
            correoGenerator: run.generator,
            dovecotGenerator: dovecotRows.generator,
          },
        ),
      );
    }
    console.log(out.join('\n\n'));
  } catch (error) {
    console.error(await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => 'no dovecot.log'));
    throw error;
  } finally {
    dovecot?.kill();
    await gateways?.stop();
    await stack?.close();
    await app?.stop();
    await baseline?.app.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
