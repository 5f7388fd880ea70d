// What the filing costs PostgreSQL per message, and how much of it is mandatory (a measurement, not a
// test; docs/performance.md "Sixth round"). Starts the embedded default as `make bench-vs-postfix` does,
// has smtp-source send N messages of 4 KB over 20 sessions, waits until all are filed, then replays the
// filing of those recorded messages in that private database, the same `file_deliveries` call the mda
// makes (parameters built from the stored rows, fresh event ids and blob keys), in variants:
//   - batches of 1, 8, 32 and 64 messages (what a batch's fixed cost is),
//   - without the search text (header_text/body_text NULL: what SEARCH TEXT/BODY's stored text costs),
//   - without the body in message_bodies (what keeping a small body in PostgreSQL costs),
// and for each the backend's own CPU (utime + stime of its process, /proc/PID/stat, so other load on the
// machine does not count), the WAL bytes written and the wall time. Each call is its own transaction
// with synchronous_commit on, as in production: one WAL flush per call.
//
//   node --import tsx bench/filing-cost.ts            (BENCH_MESSAGES=2000 BENCH_PASSES=3)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { packBytes } from '@correo/bus';
import { AdminClient } from '../e2e/test/support/admin-client.js';
import { startMailStack } from '../e2e/test/support/stacks.js';
import { SMTP_LIMITS_OFF, option } from './options.js';
import { processCpuMs } from './proc-cpu.js';

const messages = Number(option('messages', '2000'));
const passes = Number(option('passes', '3'));
const DOMAIN = 'bench.test';

interface Source {
  account_id: string;
  event: string;
  recipient: string;
  blob_key: string;
  bytes: Buffer | null;
  [column: string]: unknown;
}

// file_deliveries' m_* arguments, in order, as messages columns.
const MESSAGE_COLUMNS = [
  'blob_key',
  'size',
  'sha256',
  'internal_date',
  'header_subject',
  'header_from',
  'header_to',
  'header_cc',
  'header_message_id',
  'header_date',
  'header_in_reply_to',
  'envelope_json',
  'bodystructure_json',
  'sent_day',
  'internal_day',
  'header_text',
  'body_text',
  'sort_subject',
  'sort_from',
  'sort_to',
  'sort_cc',
  'sort_display_from',
  'sort_display_to',
  'thread_message_id',
  'thread_references',
];

const stack = await startMailStack('embedded', {
  SMTP_MAX_CONNECTIONS_PER_IP: '40',
  ...SMTP_LIMITS_OFF,
  LOG_LEVEL: 'error',
});
try {
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(`cost-${randomBytes(4).toString('hex')}`);
  await admin.createDomain(DOMAIN, tenant.id);
  await admin.createAccount(`user0@${DOMAIN}`, randomBytes(12).toString('base64url'));
  const args = ['-d', '-s', '20', '-m', String(messages), '-l', '4096', '-M', 'bench.client.test'];
  args.push('-f', 'bench@remote.test', '-t', `user0@${DOMAIN}`, `127.0.0.1:${stack.app.ports.mx}`);
  await new Promise((resolve, reject) =>
    spawn('smtp-source', args, { stdio: 'inherit' }).on('exit', resolve).on('error', reject),
  );
  const db = new pg.Client({ connectionString: stack.app.databaseUrl });
  await db.connect();
  for (;;) {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    if (rows[0]!.n >= messages) break;
    await sleep(200);
  }
  const { rows: sources } = await db.query<Source>(
    `SELECT m.account_id::text, m.received_event_id AS event, d.recipient, b.bytes,
            ${MESSAGE_COLUMNS.map((c) => (c === 'thread_references' ? 'to_jsonb(m.thread_references) AS thread_references' : `m.${c}`)).join(', ')}
       FROM messages m JOIN deliveries d ON d.event_id = m.received_event_id
       LEFT JOIN message_bodies b ON b.blob_key = m.blob_key
      ORDER BY m.id`,
  );
  const { rows: backend } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = backend[0]!.pid;
  const lsn = async () =>
    Number(
      (await db.query<{ at: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at`))
        .rows[0]!.at,
    );

  const text = `SELECT * FROM file_deliveries(${Array.from({ length: 37 }, (_, i) => `$${i + 1}`).join(', ')})`;
  let round = 0;
  async function replay(name: string, batch: number, count: number, change: (s: Source) => Source) {
    round++;
    const rows = sources.slice(0, count).map((s) => {
      const fresh = { ...change(s) };
      fresh.event = `${s.event}-r${round}`;
      fresh.blob_key = `${s.blob_key}-r${round}`;
      return fresh;
    });
    const cpuBefore = await processCpuMs(pid);
    const walBefore = await lsn();
    const began = performance.now();
    for (let at = 0; at < rows.length; at += batch) {
      const part = rows.slice(at, at + batch);
      const withBody = part.filter((r) => r.bytes);
      const packed = packBytes(withBody.map((r) => r.bytes!));
      const values: unknown[] = [
        part.map((r) => r.account_id),
        part.map(() => 'INBOX'),
        part.map((r) => r.event),
        part.map((r) => r.recipient),
        part.map(() => '[]'),
        ...MESSAGE_COLUMNS.map((c) =>
          part.map((r) => {
            const value = c === 'blob_key' ? r.blob_key : r[c];
            return value !== null && typeof value === 'object' && !(value instanceof Date)
              ? JSON.stringify(value)
              : value;
          }),
        ),
        packed.bytes,
        part.map((r) => (r.bytes ? packed.starts[withBody.indexOf(r)] : null)),
        part.map((r) => (r.bytes ? packed.lengths[withBody.indexOf(r)] : null)),
        null,
        null,
        null,
        null,
      ];
      await db.query({ name: 'replay-file-deliveries', text, values });
    }
    const wallMs = performance.now() - began;
    const cpuMs = (await processCpuMs(pid)) - cpuBefore;
    const wal = (await lsn()) - walBefore;
    console.log(
      [
        name.padEnd(44),
        `batch ${String(batch).padStart(2)}`,
        `${String(count).padStart(5)} msgs`,
        `CPU ${(cpuMs / count).toFixed(3)} ms/msg`,
        `WAL ${(wal / count / 1024).toFixed(1)} KB/msg`,
        `wall ${(wallMs / count).toFixed(3)} ms/msg`,
      ].join('  '),
    );
  }

  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start; ${sources.length} recorded messages`,
  );
  const same = (s: Source) => s;
  const noSearchText = (s: Source) => ({ ...s, header_text: null, body_text: null });
  const noBody = (s: Source) => ({ ...s, bytes: null });
  const bare = (s: Source) => ({ ...s, header_text: null, body_text: null, bytes: null });
  const n = sources.length;
  for (let pass = 1; pass <= passes; pass++) {
    console.log(`pass ${pass}`);
    await replay('as the mda files it', 32, n, same);
    await replay('as the mda files it', 64, n, same);
    await replay('as the mda files it', 8, n, same);
    await replay('as the mda files it', 1, Math.min(n, 500), same);
    await replay('without the search text', 32, n, noSearchText);
    await replay('without the body in message_bodies', 32, n, noBody);
    await replay('without both', 32, n, bare);
  }
  // The bus path of the same messages: the publish (append, one commit alone, in groups of 7 (the group
  // commit's size at 20 sessions) and of 20) and the consumer's fetch (100 a time), text format (as the consumer reads today) and
  // binary (bytea without hex).
  const { rows: events } = await db.query<{ value: Buffer; headers: unknown }>(
    `SELECT value, headers FROM bus.messages WHERE topic = 'mail.accepted' ORDER BY "offset"`,
  );
  if (events.length > 0) {
    console.log(
      `bus: ${events.length} recorded events, ${Math.round(events.reduce((n, e) => n + e.value.length, 0) / events.length)} bytes each on average`,
    );
    let topics = 0;
    // One publish commit per group (the group commit's batch): its CPU and WAL per message.
    const publish = async (group: number) => {
      const topic = `cost.replay.${++topics}`;
      await db.query('INSERT INTO bus.topics (name, partitions) VALUES ($1, 1)', [topic]);
      const cpu = await processCpuMs(pid);
      const wal = await lsn();
      for (let at = 0; at < events.length; at += group) {
        const part = events.slice(at, at + group);
        const packed = packBytes(part.map((e) => e.value));
        await db.query({
          name: 'replay-append',
          text: `WITH head AS (
             INSERT INTO bus.partition_heads (topic, partition, next_offset) VALUES ($1, 0, $2)
             ON CONFLICT (topic, partition) DO UPDATE SET next_offset = bus.partition_heads.next_offset + EXCLUDED.next_offset
             RETURNING next_offset)
           INSERT INTO bus.messages (topic, partition, "offset", key, value, headers)
           SELECT $1, 0, (SELECT next_offset FROM head) - $2::bigint + m.n - 1, NULL,
                  substring($3::bytea FROM m.start FOR m.length), m.headers
           FROM unnest($4::int[], $5::int[], $6::jsonb[]) WITH ORDINALITY AS m(start, length, headers, n)`,
          values: [
            topic,
            part.length,
            packed.bytes,
            packed.starts,
            packed.lengths,
            part.map((e) => JSON.stringify(e.headers)),
          ],
        });
      }
      return { topic, cpu: (await processCpuMs(pid)) - cpu, wal: (await lsn()) - wal };
    };
    for (let pass = 1; pass <= passes; pass++) {
      const alone = await publish(1);
      const twenty = await publish(20);
      const { topic, cpu: appendCpu, wal: appendWal } = await publish(7);
      const fetchCost = async (binary: boolean) => {
        const before = await processCpuMs(pid);
        const began = performance.now();
        for (let next = 0; next < events.length; next += 100)
          await db.query({
            text: `SELECT "offset", key, value, headers FROM bus.messages
                    WHERE topic = $1 AND partition = 0 AND "offset" >= $2 ORDER BY "offset" LIMIT 100`,
            values: [topic, next],
            ...(binary ? { binary: true } : {}),
          });
        return { cpu: (await processCpuMs(pid)) - before, wall: performance.now() - began };
      };
      const text = await fetchCost(false);
      const binary = await fetchCost(true);
      const per = (ms: number) => (ms / events.length).toFixed(3);
      console.log(
        `bus pass ${pass}: publish CPU ${per(alone.cpu)} ms/msg alone, ${per(twenty.cpu)} in groups of 20, ` +
          `${per(appendCpu)} in groups of 7 (WAL ${(appendWal / events.length / 1024).toFixed(1)} KB/msg); ` +
          `fetch (100 a time) text CPU ${per(text.cpu)} ms/msg (wall ${per(text.wall)}), binary CPU ${per(binary.cpu)} ms/msg (wall ${per(binary.wall)})`,
      );
    }
  } else console.log('bus: the events were pruned already; no bus replay');
  const { rows: sizes } = await db.query<{
    body: number;
    header: number;
    envelope: number;
    bodystructure: number;
    bytes: number;
  }>(
    `SELECT avg(octet_length(m.body_text))::int AS body, avg(octet_length(m.header_text))::int AS header,
            avg(octet_length(m.envelope_json::text))::int AS envelope,
            avg(octet_length(m.bodystructure_json::text))::int AS bodystructure,
            avg(octet_length(b.bytes))::int AS bytes
       FROM messages m LEFT JOIN message_bodies b ON b.blob_key = m.blob_key`,
  );
  console.log('average sizes (bytes):', sizes[0]);
  await db.end();
} finally {
  await stack.close();
}
