import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import pg from 'pg';
import { createS3BlobStore } from '@correo/blobs';
import { createKafkaBus, type DeliveredMessage } from '@correo/bus';
import { createRedisLimits } from '@correo/limits';
import {
  BACKEND_KINDS,
  backendCrash,
  eventually,
  postgresConnectionDrop,
  startFullDisk,
  startPrivateBackendSet,
  startTcpFaultProxy,
  uniqueName,
  type PrivateBackendSet,
} from '../src/index.js';

// The injectors themselves: each fault really happens, and healing brings back what was there.
// What the services do meanwhile is proven in e2e/test/backend-faults.test.ts.

describe('a private backend set', () => {
  let set: PrivateBackendSet;
  before(async () => {
    set = await startPrivateBackendSet();
  });
  after(async () => {
    await set?.stop();
  });

  test('every backend crashes (SIGKILL, PostgreSQL immediate) and comes back with its data', async () => {
    const topic = uniqueName('faults');
    const bus = createKafkaBus({ brokers: set.backends.kafkaBrokers, clientId: uniqueName('faults') });
    const db = () => new pg.Client({ connectionString: set.databaseUrl });
    const blobs = createS3BlobStore(set.backends.s3);
    const limits = createRedisLimits({ url: set.backends.redisUrl, keyPrefix: 'faults:' });
    try {
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      await bus.publish(topic, [{ key: 'k', value: Buffer.from('before the crashes') }]);
      const client = db();
      await client.connect();
      await client.query('CREATE TABLE kept (note text)');
      await client.query(`INSERT INTO kept VALUES ('before the crashes')`);
      await client.end();
      const blob = await blobs.put(Readable.from([Buffer.from('before the crashes')]));
      await limits.increment('kept', 3_600_000, 7);

      for (const kind of BACKEND_KINDS) {
        const crash = backendCrash(set, kind);
        await crash.inject();
        await crash.heal();
      }

      const seen: DeliveredMessage[] = [];
      const subscription = await bus.subscribe({
        group: uniqueName('faults'),
        topic,
        handler: async (message) => void seen.push(message),
      });
      try {
        await eventually(
          'the message published before the Kafka crash',
          () => seen.length === 1,
          120_000,
          200,
        );
        assert.equal(seen[0]!.value.toString(), 'before the crashes');
      } finally {
        await subscription.stop();
      }
      await eventually(
        'PostgreSQL to answer after its crash',
        async () => {
          const after = db();
          await after.connect();
          try {
            const { rows } = await after.query<{ note: string }>('SELECT note FROM kept');
            assert.deepEqual(rows, [{ note: 'before the crashes' }]);
            return true;
          } finally {
            await after.end();
          }
        },
        60_000,
        200,
      );
      await eventually(
        'Redis to answer after its crash',
        async () => (await limits.get('kept')) === 7,
        60_000,
        200,
      );
      assert.equal((await buffer(await blobs.get(blob.key))).toString(), 'before the crashes');
    } finally {
      await bus.close().catch(() => {});
      await blobs.close().catch(() => {});
      await limits.close().catch(() => {});
    }
  });

  test('a connection drop ends every session of the database, and a new one works at once', async () => {
    const victim = new pg.Client({ connectionString: set.databaseUrl });
    await victim.connect();
    const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const errors: Error[] = [];
    victim.on('error', (error) => errors.push(error));
    const drop = postgresConnectionDrop(set.databaseUrl);
    await drop.inject();
    await eventually('the dropped session to see its connection end', () => errors.length > 0);
    assert.ok(drop.terminated >= 1);
    const fresh = new pg.Client({ connectionString: set.databaseUrl });
    await fresh.connect();
    const { rows } = await fresh.query('SELECT count(*)::int AS left FROM pg_stat_activity WHERE pid = $1', [
      pid,
    ]);
    assert.equal(rows[0].left, 0, 'the dropped session is gone from the server');
    await drop.heal();
    assert.equal((await fresh.query('SELECT 1 AS one')).rows[0].one, 1);
    await fresh.end();
    await victim.end().catch(() => {});
  });
});

describe('the TCP fault proxy', () => {
  test('passes, stalls until healed, delays, and resets', async () => {
    const received: Buffer[] = [];
    const upstream = createServer((socket) =>
      socket.on('data', (chunk) => {
        received.push(chunk);
        socket.write(chunk);
      }),
    );
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const proxy = await startTcpFaultProxy({
      host: '127.0.0.1',
      port: (upstream.address() as { port: number }).port,
    });
    const sockets: Socket[] = [];
    const open = async () => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port });
      sockets.push(socket);
      await once(socket, 'connect');
      return socket;
    };
    const echo = async (socket: Socket, text: string) => {
      socket.write(text);
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      return chunk.toString();
    };
    try {
      const client = await open();
      assert.equal(await echo(client, 'pass'), 'pass');

      proxy.set({ kind: 'stall' });
      const answer = echo(client, 'held');
      // The echo server sees nothing while stalled: its count is read once the proxy holds the chunk.
      await eventually('the proxy to hold the chunk', () => client.bytesWritten >= 8);
      assert.equal(Buffer.concat(received).toString(), 'pass');
      proxy.set({ kind: 'pass' });
      assert.equal(await answer, 'held', 'the held bytes flow once healed');

      proxy.set({ kind: 'delay', ms: 20 });
      assert.equal(await echo(client, 'slow'), 'slow');

      proxy.set({ kind: 'reset' });
      const [error] = (await once(client, 'error')) as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ECONNRESET', 'an open connection is reset');
      const late = connect({ host: '127.0.0.1', port: proxy.port });
      sockets.push(late);
      const [refused] = (await once(late, 'error')) as [NodeJS.ErrnoException];
      assert.equal(refused.code, 'ECONNRESET', 'a new connection is reset on accept');

      proxy.set({ kind: 'pass' });
      assert.equal(await echo(await open(), 'again'), 'again');
    } finally {
      for (const socket of sockets) socket.destroy();
      await proxy.close();
      upstream.close();
    }
  });
});

describe('a full disk', () => {
  test('inject() leaves no byte free, heal() frees it, close() unmounts', async () => {
    const disk = await startFullDisk('spool', 1024 * 1024);
    try {
      await disk.inject();
      assert.equal(await disk.free(), 0);
      await assert.rejects(writeFile(`${disk.dir}/mail.eml`, Buffer.alloc(8192)), { code: 'ENOSPC' });
      await disk.heal();
      assert.ok((await disk.free()) > 1_000_000);
      await writeFile(`${disk.dir}/mail.eml`, Buffer.alloc(8192));
    } finally {
      await disk.close();
    }
    await assert.rejects(readdir(disk.dir), { code: 'ENOENT' });
  });
});
