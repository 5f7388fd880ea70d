import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  makeDataDir,
  postgresLeftFor,
  removeDataDir,
  eventually,
  freePort,
  killRunning,
  spawnNode,
  type Spawned,
} from '@correo/testkit';

const WORKER = fileURLToPath(new URL('./fixtures/queue-worker.ts', import.meta.url));
const TOTAL = 300;
const TOPIC = 'crash.queue';
const GROUP = 'crash-mda';

let dataDir: string | undefined;
const clients: pg.Client[] = [];
after(async () => {
  for (const client of clients) await client.end().catch(() => {});
  await killRunning();
  if (dataDir) await removeDataDir(dataDir);
});

/** "<partition> <offset>" of each message a run handled, in order. */
function handled(run: Spawned): string[] {
  return run.lines().filter((line) => /^\d+ \d+$/.test(line));
}

/** A session on the embedded server, as any operator would open one: password from the data dir. */
async function connect(dir: string, port: number): Promise<pg.Client> {
  const password = (await readFile(join(dir, 'postgres', 'password'), 'utf8')).trim();
  const client = new pg.Client({
    connectionString: `postgres://correo:${encodeURIComponent(password)}@127.0.0.1:${port}/correo`,
  });
  clients.push(client);
  await client.connect();
  return client;
}

async function committedOffsets(db: pg.Client): Promise<Map<number, bigint>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    'SELECT partition, next_offset FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2',
    [GROUP, TOPIC],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

function isCommitted(id: string, offsets: Map<number, bigint>): boolean {
  const [partition, offset] = id.split(' ').map(Number) as [number, number];
  return BigInt(offset) < (offsets.get(partition) ?? 0n);
}

test(
  'SIGKILLed mid-stream, the all-in-one restarts on the same data and redelivers exactly the uncommitted messages',
  { timeout: 110_000 },
  async (t) => {
    dataDir = await makeDataDir();
    const dir = dataDir;
    const pgPort = await freePort();
    const env = {
      CORREO_DATA_DIR: dir,
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      QUEUE_TOPIC: TOPIC,
      QUEUE_GROUP: GROUP,
      LOG_LEVEL: 'warn',
    };

    const first = spawnNode(WORKER, { ...env, QUEUE_PUBLISH: String(TOTAL) });
    await eventually('the first run to handle 80 messages', () => handled(first).length >= 80);
    first.child.kill('SIGKILL');
    assert.deepEqual(await first.exitWithin(10_000), { code: null, signal: 'SIGKILL' });
    const firstHandled = handled(first);

    // Its PostgreSQL is a child that outlives it: read what the group had committed through it.
    const orphans = postgresLeftFor(dir);
    assert.equal(orphans.length, 1, 'the embedded PostgreSQL outlived its killed parent');
    const db = await connect(dir, pgPort);
    // A COMMIT the killed process sent just before dying is settled once its sessions are gone.
    await eventually('the killed run’s sessions to end', async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      return rows[0]?.n === 0;
    });
    const published = (
      await db.query<{ id: string }>(
        `SELECT partition || ' ' || "offset" AS id FROM bus.messages WHERE topic = $1`,
        [TOPIC],
      )
    ).rows
      .map((r) => r.id)
      .sort();
    assert.equal(published.length, TOTAL, 'every message was queued before the crash');
    const afterCrash = await committedOffsets(db);
    await db.end();
    const committedBeforeCrash = published.filter((id) => isCommitted(id, afterCrash));
    assert.ok(committedBeforeCrash.length >= 1, 'the first run committed something');
    assert.ok(committedBeforeCrash.length < TOTAL, 'the first run was killed mid-stream');
    const firstSeen = new Set(firstHandled);
    assert.deepEqual(
      committedBeforeCrash.filter((id) => !firstSeen.has(id)),
      [],
      'every committed message was handled by the first run',
    );
    t.diagnostic(
      `first run handled ${firstHandled.length}, committed ${committedBeforeCrash.length} of ${TOTAL}`,
    );

    // Same data dir: the second run must shut the leftover server down and start its own.
    const second = spawnNode(WORKER, env);
    await eventually('the second run to subscribe', () => second.lines().includes('subscribed'));
    const running = postgresLeftFor(dir);
    assert.equal(running.length, 1);
    assert.ok(!running.includes(orphans[0]!), 'the leftover server was replaced');
    const db2 = await connect(dir, pgPort);
    await eventually('the second run to commit every message', async () => {
      const offsets = await committedOffsets(db2);
      return published.every((id) => isCommitted(id, offsets));
    });
    await db2.end();

    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exitWithin(30_000), { code: 0, signal: null });
    assert.deepEqual(postgresLeftFor(dir), [], 'no PostgreSQL left running on the data dir');

    const secondHandled = handled(second);
    const expectedAgain = published.filter((id) => !isCommitted(id, afterCrash));
    assert.deepEqual(
      [...secondHandled].sort(),
      [...expectedAgain].sort(),
      'every uncommitted message came again, none committed came back',
    );
    assert.deepEqual([...new Set([...firstHandled, ...secondHandled])].sort(), published, 'nothing was lost');
  },
);
