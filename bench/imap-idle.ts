// IMAP IDLE at scale (a report, not a test): the two figures issue 11 sets as goals, measured on the
// all-in-one exactly as `make dev` runs it.
//
// 1. Memory per idle connection: N connections (default 10,000) each LOGIN, SELECT INBOX and IDLE; the
//    growth of the all-in-one process's RSS (from /proc) and of its V8 heap (its /metrics) per connection.
//    Goal: <= 64 KB per connection.
// 2. Delivery to IDLE latency: D messages sent one after another over SMTP (MX port) to accounts with
//    idling sessions; for each, the time from the 250 to the `* n EXISTS` of the first and of the last
//    idler of that account. Goal: p99 <= 50 ms from the 250.
//
//   make bench-imap-idle
//   BENCH_IDLE_CONNECTIONS=2000 BENCH_IDLE_ACCOUNTS=50 BENCH_IDLE_DELIVERIES=200 make bench-imap-idle
//
// Every LOGIN checks a real argon2id hash (19 MiB, t=2): opening 10,000 sessions costs 10,000 hashes, so
// setting up takes minutes on two cores; that time is reported, not part of either figure.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { LineClient, startAllInOneProcess, uniqueName } from '@correo/testkit';
import { AdminClient } from '../e2e/test/support/admin-client.js';
import { option } from './options.js';
import { formatTable, percentile } from './report.js';

const connections = Number(option('idle_connections', '10000'));
const accountCount = Number(option('idle_accounts', '100'));
const deliveries = Number(option('idle_deliveries', '300'));
/** Sessions opened at once while setting up (each LOGIN is an argon2 verification). */
const openBatch = 32;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmRSS for ${pid}`);
  return Number(kib[1]) * 1024;
}

async function heapBytes(metrics: () => Promise<string>): Promise<number> {
  const text = await metrics();
  const used = /^correo_nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
  return used ? Number(used[1]) : NaN;
}

/** One idling session: resolves `heard` with the time it read an EXISTS after `expect()`. */
class Idler {
  private waiting: { resolve: (at: number) => void; reject: (error: Error) => void } | undefined;
  /** Why the session stopped listening (its connection failed): expect() says so instead of hanging. */
  private ended: Error | undefined;

  private constructor(readonly client: LineClient) {}

  static async open(port: number, address: string, password: string): Promise<Idler> {
    const client = await LineClient.imapLogin(port, address, password);
    const selected = await client.command('SELECT INBOX');
    if (!selected.status.startsWith('OK')) throw new Error(`SELECT: ${selected.status}`);
    client.write('i IDLE\r\n');
    const continuation = await client.readLine();
    if (!continuation.startsWith('+')) throw new Error(`IDLE: ${continuation}`);
    const idler = new Idler(client);
    void idler.listen();
    return idler;
  }

  private async listen(): Promise<void> {
    for (;;) {
      let line: string;
      try {
        // An idler waits as long as the whole run does: setting up 10,000 sessions takes minutes, far
        // past the line client's default read timeout (20 s), which used to end the first sessions'
        // listening before the first delivery, so the bench waited for ever on their EXISTS.
        line = await this.client.readLine(IDLER_READ_TIMEOUT_MS);
      } catch (error) {
        this.ended = error as Error;
        this.waiting?.reject(this.ended);
        return;
      }
      if (/^\* \d+ EXISTS$/.test(line)) this.waiting?.resolve(performance.now());
    }
  }

  expect(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.ended) reject(this.ended);
      else this.waiting = { resolve, reject };
    });
  }
}

/** How long an idler waits for its next line: longer than any run (setTimeout's limit is about 24 days). */
const IDLER_READ_TIMEOUT_MS = 6 * 3_600_000;

function smtp(port: number): Promise<SMTPConnection> {
  const connection = new SMTPConnection({
    host: '127.0.0.1',
    port,
    ignoreTLS: true,
    name: 'bench.client.test',
  });
  return new Promise((resolve, reject) => {
    connection.once('error', reject);
    connection.connect((error) => (error ? reject(error) : resolve(connection)));
  });
}

/** Sends one message and resolves with the time the 250 was read. */
function send(connection: SMTPConnection, to: string, n: number): Promise<number> {
  const text = [
    'From: bench@remote.test',
    `To: ${to}`,
    `Subject: idle wake-up ${n}`,
    `Message-ID: <idle-${n}-${randomBytes(6).toString('hex')}@remote.test>`,
    `Date: ${new Date().toUTCString()}`,
    '',
    'Wake up.',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    connection.send({ from: 'bench@remote.test', to: [to] }, text, (error) =>
      error ? reject(error) : resolve(performance.now()),
    );
  });
}

const app = await startAllInOneProcess({
  env: {
    IMAP_MAX_CONNECTIONS: String(connections + 100),
    IMAP_MAX_CONNECTIONS_PER_IP: String(connections + 100),
    IMAP_MAX_CONNECTIONS_PER_USER: String(Math.ceil(connections / accountCount) + 10),
    IMAP_MAX_CONNECTIONS_PER_USER_IP: String(Math.ceil(connections / accountCount) + 10),
    SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '0',
  },
});
const sessions: Idler[][] = [];
try {
  const admin = new AdminClient(app.adminUrl, app.adminToken);
  const domain = `${uniqueName('idle')}.test`;
  const tenant = await admin.createTenant(domain);
  await admin.createDomain(domain, tenant.id);
  const password = randomBytes(12).toString('base64url');
  const addresses: string[] = [];
  for (let i = 0; i < accountCount; i++) {
    addresses.push((await admin.createAccount(`idle${i}@${domain}`, password)).address);
    sessions.push([]);
  }
  const pid = app.process.child.pid!;
  await sleep(2000);
  const before = { rss: await rssBytes(pid), heap: await heapBytes(app.metrics) };

  const setupStarted = performance.now();
  for (let i = 0; i < connections; i += openBatch) {
    const batch = Array.from({ length: Math.min(openBatch, connections - i) }, (_, j) => i + j);
    const opened = await Promise.all(
      batch.map((n) => Idler.open(app.ports.imap, addresses[n % accountCount]!, password)),
    );
    opened.forEach((idler, j) => sessions[batch[j]! % accountCount]!.push(idler));
    if ((i / openBatch) % 25 === 0) process.stderr.write(`\r${i + batch.length}/${connections} idling`);
  }
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  process.stderr.write('\n');
  // Let the logins' transient garbage go before reading the resident size.
  await sleep(10_000);
  const after = { rss: await rssBytes(pid), heap: await heapBytes(app.metrics) };
  const perConnection = (bytes: number) => bytes / connections / 1024;

  const connection = await smtp(app.ports.mx);
  const first: number[] = [];
  const last: number[] = [];
  for (let n = 0; n < deliveries; n++) {
    const idlers = sessions[n % accountCount]!;
    const heard = idlers.map((idler) => idler.expect());
    const accepted = await send(connection, addresses[n % accountCount]!, n);
    const times = await Promise.all(heard);
    first.push(Math.min(...times) - accepted);
    last.push(Math.max(...times) - accepted);
  }
  connection.quit();
  first.sort((a, b) => a - b);
  last.sort((a, b) => a - b);

  const ms = (value: number) => value.toFixed(1);
  console.log(
    `imap idle on the all-in-one (embedded default), ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `${connections} connections over ${accountCount} accounts logged in, SELECTed INBOX and in IDLE (set up in ${setupSeconds.toFixed(0)} s)`,
  );
  console.log(
    formatTable(
      ['what', 'before', 'with the idlers', 'per connection'],
      [
        [
          'process RSS',
          `${(before.rss / 2 ** 20).toFixed(0)} MiB`,
          `${(after.rss / 2 ** 20).toFixed(0)} MiB`,
          `${perConnection(after.rss - before.rss).toFixed(1)} KiB`,
        ],
        [
          'V8 heap used',
          `${(before.heap / 2 ** 20).toFixed(0)} MiB`,
          `${(after.heap / 2 ** 20).toFixed(0)} MiB`,
          `${perConnection(after.heap - before.heap).toFixed(1)} KiB`,
        ],
      ],
    ),
  );
  console.log(
    `${deliveries} deliveries over SMTP (MX), one at a time, each to an account with ${Math.round(connections / accountCount)} idlers: ms from the 250 to EXISTS`,
  );
  console.log(
    formatTable(
      ['idler', 'p50', 'p90', 'p99', 'max'],
      [
        [
          'first of the account',
          ms(percentile(first, 50)),
          ms(percentile(first, 90)),
          ms(percentile(first, 99)),
          ms(first.at(-1)!),
        ],
        [
          'last of the account',
          ms(percentile(last, 50)),
          ms(percentile(last, 90)),
          ms(percentile(last, 99)),
          ms(last.at(-1)!),
        ],
      ],
    ),
  );
} finally {
  for (const idler of sessions.flat()) idler.client.destroy();
  await app.stop();
}
