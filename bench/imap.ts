// IMAP benchmark (a report, not a test): a mix like Dovecot imaptest's default: C concurrent clients,
// each logged in to its own account and selected on an INBOX of M messages, run random commands for D
// seconds (FETCH flags and bodies, STORE flags, APPEND, EXPUNGE, SEARCH, NOOP, re-SELECT). Prints ops/s
// and ms per command. Memory per idle connection and IDLE latency: bench/imap-idle.ts.
//
//   make bench-imap                                     embedded (files, in-process notify/limits)
//   BENCH_KIND=distributed make bench-imap              MinIO blobs, Redis notify/limits
//   BENCH_CLIENTS=8 BENCH_MESSAGES=200 BENCH_SECONDS=20
import { performance } from 'node:perf_hooks';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from '../services/imap-gateway/test/helpers/stack.js';
import type { StackKind } from '@correo/testkit/stack';

const clients = Number(process.env.BENCH_CLIENTS ?? 8);
const perClient = Number(process.env.BENCH_MESSAGES ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const kind = (process.env.BENCH_KIND ?? 'embedded') as StackKind;

function body(lines: number): string[] {
  return Array.from(
    { length: lines },
    (_, i) => `Line ${i} of a benchmark message, long enough to look like mail.`,
  );
}

/** imaptest's default weights, roughly: fetch-heavy, then flags, append, expunge, search. */
const MIX: Array<[name: string, weight: number]> = [
  ['FETCH flags', 30],
  ['FETCH body', 20],
  ['STORE flags', 20],
  ['APPEND', 10],
  ['EXPUNGE', 5],
  ['SEARCH', 10],
  ['NOOP', 3],
  ['SELECT', 2],
];
const totalWeight = MIX.reduce((sum, [, w]) => sum + w, 0);

function pick(): string {
  let r = Math.random() * totalWeight;
  for (const [name, weight] of MIX) {
    r -= weight;
    if (r < 0) return name;
  }
  return 'NOOP';
}

async function runClient(
  port: number,
  address: string,
  password: string,
  until: number,
  stats: Map<string, number[]>,
) {
  const client = await LineClient.imapLogin(port, address, password);
  let exists = Number(/\* (\d+) EXISTS/.exec((await client.command('SELECT INBOX')).untagged.join('\n'))![1]);
  const message = rawMessage('appended by the benchmark', body(40));
  try {
    while (performance.now() < until) {
      const op = pick();
      const n = Math.max(1, Math.ceil(Math.random() * exists));
      let line: string;
      switch (op) {
        case 'FETCH flags':
          line = `FETCH 1:* (UID FLAGS)`;
          break;
        case 'FETCH body':
          line = `FETCH ${n} (UID RFC822.SIZE BODY.PEEK[])`;
          break;
        case 'STORE flags':
          line = `STORE ${n} ${Math.random() < 0.5 ? '+' : '-'}FLAGS (\\Seen \\Flagged)`;
          break;
        case 'APPEND':
          line = `APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}`;
          break;
        case 'EXPUNGE':
          await client.command(`STORE ${n} +FLAGS.SILENT (\\Deleted)`);
          line = 'EXPUNGE';
          break;
        case 'SEARCH':
          line = Math.random() < 0.5 ? 'SEARCH UNSEEN' : 'SEARCH SUBJECT "bench 3"';
          break;
        case 'SELECT':
          line = 'SELECT INBOX';
          break;
        default:
          line = 'NOOP';
      }
      const start = performance.now();
      const result = await client.command(line);
      const elapsed = performance.now() - start;
      if (!result.status.startsWith('OK')) throw new Error(`${line.slice(0, 40)}: ${result.status}`);
      for (const untagged of result.untagged) {
        const count = /^\* (\d+) EXISTS$/.exec(untagged);
        if (count) exists = Number(count[1]);
        if (untagged.endsWith(' EXPUNGE')) exists--;
      }
      const list = stats.get(op) ?? [];
      list.push(elapsed);
      stats.set(op, list);
    }
    await client.command('LOGOUT');
  } finally {
    client.destroy();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function mixBenchmark(stack: ImapTestStack) {
  const gateway = await stack.gateway({
    maxConnectionsPerIp: 100_000,
    maxConnectionsPerUser: 100_000,
    maxConnectionsPerUserIp: 100_000,
  });
  const accounts = [];
  const fillStart = performance.now();
  for (let c = 0; c < clients; c++) {
    const account = await stack.account(`mix${c}`);
    for (let m = 0; m < perClient; m++) {
      await stack.deliver(account.accountId, account.address, rawMessage(`bench ${m}`, body(60)));
    }
    accounts.push(account);
  }
  console.log(
    `imap mix (${kind}): ${clients} clients x ${perClient} messages (~4 KB), ${seconds} s ` +
      `(filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s)`,
  );
  const stats = new Map<string, number[]>();
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    accounts.map((a) => runClient(gateway.ports.imap, a.address, stack.password, until, stats)),
  );
  const elapsed = (performance.now() - start) / 1000;
  const total = [...stats.values()].reduce((sum, list) => sum + list.length, 0);
  console.log(`  ${total} commands in ${elapsed.toFixed(1)} s = ${(total / elapsed).toFixed(0)} ops/s`);
  console.log('  command        count   ops/s   mean ms   p50 ms   p95 ms');
  for (const [name] of MIX) {
    const list = (stats.get(name) ?? []).sort((a, b) => a - b);
    if (!list.length) continue;
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    console.log(
      `  ${name.padEnd(13)} ${String(list.length).padStart(6)} ${(list.length / elapsed).toFixed(0).padStart(7)} ` +
        `${mean.toFixed(2).padStart(9)} ${percentile(list, 50).toFixed(2).padStart(8)} ${percentile(list, 95).toFixed(2).padStart(8)}`,
    );
  }
}

const stack = await ImapTestStack.create(kind);
try {
  await mixBenchmark(stack);
} finally {
  await stack.close();
}
