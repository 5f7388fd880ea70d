// How many PostgreSQL statements each command of the IMAP benchmark's cycle costs (a report, not a
// test): the gateway runs in this process on the test backends' PostgreSQL, every query its pg
// clients send is recorded, and one cycle of bench/imap-vs-dovecot.ts's commands is run twice (the
// second shows the steady state: caches filled, the mailbox already selected).
//
//   set -a; . .test-backends/env; set +a; node --import tsx bench/imap-statements.ts
//
// BENCH_PG_STATS=N then runs N more cycles and prints what PostgreSQL spent on each statement of them,
// nested ones (triggers, PL/pgSQL) included: calls, execution time, WAL records/bytes/full-page images,
// buffers dirtied, and how many of each table's updates were HOT. It needs a cluster started with
// `shared_preload_libraries=pg_stat_statements` and `pg_stat_statements.track=all` (the shared test
// cluster is not; start a private one and point TEST_DATABASE_URL at it).
import pg from 'pg';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from '../services/imap-gateway/test/helpers/stack.js';
import { treeCpuMs } from './proc-cpu.js';

const sent: string[] = [];
let recording = false;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const query = pg.Client.prototype.query as unknown as Query;
// Wrapped on the prototype: the pool's clients are made inside the store, out of reach otherwise.
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  if (recording) {
    const named =
      typeof config === 'object' && config !== null && 'name' in config ? String(config.name) : '';
    const text =
      typeof config === 'string'
        ? config
        : typeof config === 'object' && config !== null && 'text' in config
          ? String(config.text)
          : '';
    sent.push(`${named ? `[${named}] ` : ''}${text.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
  return query.apply(this, args);
};

const stack = await ImapTestStack.create('embedded');
try {
  const gateway = await stack.gateway({});
  const account = await stack.account('statements');
  const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
  const append = async () => {
    const message = rawMessage('appended by the benchmark');
    const tag = client.allocateTag();
    client.write(`${tag} APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
    await client.collect(tag);
  };
  for (let i = 0; i < 20; i++) await append();
  const cycle: [string, () => Promise<unknown>][] = [
    ['SELECT', () => client.command('SELECT INBOX')],
    ['FETCH flags', () => client.command('FETCH 1:* (UID FLAGS)')],
    ['FETCH envelope', () => client.command('FETCH 5:14 (ENVELOPE BODYSTRUCTURE)')],
    ['FETCH body', () => client.command('FETCH 7 (UID RFC822.SIZE BODY.PEEK[])')],
    ['STORE', () => client.command('STORE 7 +FLAGS (\\Seen \\Flagged)')],
    ['APPEND', append],
    ['UID STORE', () => client.command('UID STORE * +FLAGS.SILENT (\\Deleted)')],
    ['EXPUNGE', () => client.command('EXPUNGE')],
    ['SEARCH', () => client.command('SEARCH FROM s3 SUBJECT "bench 3"')],
  ];
  for (const round of ['first cycle', 'second cycle']) {
    let total = 0;
    console.log(`## ${round}`);
    for (const [name, run] of cycle) {
      sent.length = 0;
      recording = true;
      await run();
      // The change a write published comes back to the session on the next turn: count what it costs.
      await new Promise((resolve) => setTimeout(resolve, 50));
      recording = false;
      total += sent.length;
      console.log(`${name}: ${sent.length}`);
      for (const line of sent) console.log(`    ${line}`);
    }
    console.log(`cycle: ${total} statements\n`);
  }
  const statsCycles = Number(process.env.BENCH_PG_STATS ?? 0);
  if (statsCycles > 0) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const { rows: db } = await stack.pool.query<{ oid: string }>(
        'SELECT oid FROM pg_database WHERE datname = current_database()',
      );
      const tables = `SELECT relname, n_tup_upd::bigint AS upd, n_tup_hot_upd::bigint AS hot, n_tup_ins::bigint AS ins,
          n_tup_del::bigint AS del FROM pg_stat_user_tables ORDER BY relname`;
      const before = (await stack.pool.query<Record<string, string>>(tables)).rows;
      await admin.query('SELECT pg_stat_statements_reset()');
      // The cluster's CPU (its postmaster's tree) when the cluster runs on this machine (BENCH_PG_PID).
      const postmaster = Number(process.env.BENCH_PG_PID ?? 0);
      const cpuBefore = postmaster ? await treeCpuMs(postmaster) : 0;
      const started = process.hrtime.bigint();
      for (let i = 0; i < statsCycles; i++) for (const [, run] of cycle) await run();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (postmaster) {
        const used = (await treeCpuMs(postmaster)) - cpuBefore;
        console.log(`PostgreSQL CPU: ${(used / statsCycles).toFixed(2)} ms per cycle`);
      }
      // Table statistics reach the views at the end of each backend's transaction, with a delay.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const { rows } = await admin.query<Record<string, string>>(
        `SELECT calls, round(total_exec_time::numeric / $2, 3) AS ms_per_cycle,
           round((wal_records::numeric / $2), 1) AS wal_recs, round(wal_bytes::numeric / $2) AS wal_bytes,
           round(wal_fpi::numeric / $2, 2) AS fpi, round(shared_blks_dirtied::numeric / $2, 1) AS dirtied,
           round(shared_blks_hit::numeric / $2) AS hit, toplevel, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
         FROM pg_stat_statements WHERE dbid = $1 ORDER BY total_exec_time DESC LIMIT 40`,
        [db[0]!.oid, statsCycles],
      );
      console.log(
        `## PostgreSQL per cycle over ${statsCycles} cycles (${(elapsed / statsCycles).toFixed(2)} ms each, one client)`,
      );
      console.log('calls | exec ms/cycle | WAL records | WAL bytes | FPI | dirtied | hit | top | statement');
      for (const row of rows)
        console.log(
          `${row.calls} | ${row.ms_per_cycle} | ${row.wal_recs} | ${row.wal_bytes} | ${row.fpi} | ${row.dirtied} | ${row.hit} | ${row.toplevel ? 'y' : 'n'} | ${row.query}`,
        );
      const after = (await stack.pool.query<Record<string, string>>(tables)).rows;
      console.log('\n## rows per cycle: updated (of which HOT), inserted, deleted');
      for (const row of after) {
        const old = before.find((b) => b.relname === row.relname);
        const d = (k: string) => (Number(row[k]) - Number(old?.[k] ?? 0)) / statsCycles;
        if (d('upd') + d('ins') + d('del') > 0)
          console.log(`${row.relname}: ${d('upd')} (${d('hot')} HOT), +${d('ins')}, -${d('del')}`);
      }
    } finally {
      await admin.end();
    }
  }
  client.destroy();
} finally {
  await stack.close();
}
