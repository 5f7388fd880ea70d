import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { decodeOutboundMessage, encodeMailAccepted } from '@correo/proto';
import { eventually, spawnNode, uniqueName } from '@correo/testkit';
import type { Spawned } from '@correo/testkit';
import { putSieveScript, withStoredBodies } from '@correo/store';
import { openTestStack } from '@correo/testkit/stack';
import type { StackKind } from '@correo/testkit/stack';
import { rawMessage } from './helpers/messages.js';
import { Provisioner } from './helpers/provision.js';
import { acceptedEvent } from './helpers/stack.js';

const EVENTS = 1_000;
const MDA_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** The last of what the process printed, for failure messages. */
const output = (mda: Spawned) => (mda.stdout() + mda.stderr()).slice(-8_000);

/**
 * The mda process is SIGKILLed in the middle of a burst (so in the middle of its batches) and started
 * again: every event must end up stored exactly once per recipient, none lost, none doubled, and no
 * UID wasted or reused.
 */
export function crashScenario(kind: StackKind): void {
  test(`SIGKILL during a burst of ${EVENTS} events on the ${kind} stack: every message stored exactly once`, async (t) => {
    // The mda runs as its own process: it reads the blobs this test stores.
    const stack = await openTestStack(kind, { partitions: 3, blobsAtRoot: true });
    const { pool, bus, blobs } = stack;
    const processes: Spawned[] = [];
    t.after(async () => {
      await Promise.all(processes.map((p) => p.stop('SIGKILL')));
      await stack.close();
    });

    const topic = uniqueName('mail.accepted');
    const outboundTopic = uniqueName('mail.outbound');
    const env: Record<string, string> = {
      ...stack.env(),
      LOG_LEVEL: 'warn',
      // What this test counts is exactly-once, not the hourly outbound limit (1000 replies here).
      MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR: '0',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      BUS_MAX_ATTEMPTS: '5',
      KAFKA_TOPIC_PARTITIONS: '3',
      KAFKA_CLIENT_ID: uniqueName('mda-crash'),
      MDA_CONSUMER_GROUP: uniqueName('mda'),
      MDA_ACCEPTED_TOPIC: topic,
      MDA_OUTBOUND_TOPIC: outboundTopic,
      MDA_DEAD_LETTER_TOPIC: uniqueName('mail.accepted.dlq'),
      // Its database sessions by name (node-postgres reads PGAPPNAME): the test waits for them to end.
      PGAPPNAME: uniqueName('mda-crash'),
    };
    await bus.ensureTopics([{ name: topic, partitions: 3 }]);

    const provision = new Provisioner(pool, uniqueName('tenant'));
    const d = `${uniqueName('crash')}.test`;
    const accounts = [await provision.account(`one@${d}`), await provision.account(`two@${d}`)];
    // one's vacation answers every event's own sender once: the kill must not double or lose a reply.
    await putSieveScript(pool, accounts[0]!, 'away', 'require "vacation"; vacation "Away.";', {
      activate: true,
    });
    // two's Sieve script files a second copy: the kill must not double or lose either of them.
    await putSieveScript(
      pool,
      accounts[1]!,
      'copies',
      'require ["fileinto", "copy", "mailbox"]; fileinto :copy :create "Copies"; keep;',
      { activate: true },
    );
    const blob = await blobs.put(
      Readable.from([rawMessage({ from: 'a@remote.test', to: [`one@${d}`], subject: 'burst', text: 'x' })]),
    );
    // At the root of the shared bucket: nothing else removes it.
    stack.defer(() => blobs.delete(blob.key));

    // Even events go to one recipient, odd ones to two (whose script files two copies): 2,000
    // deliveries in all. Every third one
    // carries its own body in the event, as smtp-ingress sends a small message: the mda stores it
    // (under its content address) before filing, so the kill also lands between such a put and
    // its filing.
    const expected = new Map<string, number>();
    const carriedKeys: string[] = [];
    const events = Array.from({ length: EVENTS }, (_, i) => {
      const eventId = randomUUID();
      const to = i % 2 === 0 ? [`one@${d}`] : [`one@${d}`, `two@${d}`];
      expected.set(eventId, to.length === 1 ? 1 : 3);
      if (i % 3 !== 2) {
        return {
          key: eventId,
          value: encodeMailAccepted(acceptedEvent(eventId, `s${i}@remote.test`, { to }, blob)),
        };
      }
      const body = rawMessage({ from: 'a@remote.test', to, subject: `carried ${i}`, text: 'x' });
      const sha256 = createHash('sha256').update(body).digest('hex');
      carriedKeys.push(sha256);
      stack.defer(() => blobs.delete(sha256));
      const carried = { key: sha256, sha256, size: body.length };
      return {
        key: eventId,
        value: encodeMailAccepted({ ...acceptedEvent(eventId, `s${i}@remote.test`, { to }, carried), body }),
      };
    });
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    const mdaSessions = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND application_name = $1`,
          [env.PGAPPNAME!],
        )
      ).rows[0]!.n;
    const delivered = async () =>
      Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM deliveries')).rows[0]!.n);

    const first = spawnNode(MDA_MAIN, env);
    processes.push(first);
    for (let i = 0; i < events.length; i += 100) await bus.publish(topic, events.slice(i, i + 100));

    await eventually(
      'a third of the deliveries',
      async () => {
        if (first.child.exitCode !== null) throw new Error(`mda exited early: ${output(first)}`);
        return (await delivered()) >= total / 3;
      },
      90_000,
    );
    assert.ok((await mdaSessions()) > 0, 'the mda’s database sessions are seen by name');
    assert.deepEqual(
      await first.stop('SIGKILL'),
      { code: null, signal: 'SIGKILL' },
      'the mda died by the SIGKILL',
    );
    // A COMMIT the killed process sent just before dying settles once its sessions are gone.
    await eventually(
      'the killed mda’s database sessions to end',
      async () => (await mdaSessions()) === 0,
      30_000,
    );
    const atKill = await delivered();
    t.diagnostic(`${atKill} of ${total} deliveries were committed at the SIGKILL`);
    assert.ok(atKill >= 1, 'the killed mda committed something');
    assert.ok(atKill < total, 'the mda was killed mid-stream, before the last delivery');
    // The mda files what is ready in one transaction per batch, so the kill lands between or
    // inside batches: one transaction holding several events shows that it batched at all.
    const largestBatch = await pool.query<{ events: string }>(
      `SELECT max(events) AS events FROM (SELECT count(DISTINCT event_id) AS events FROM deliveries GROUP BY xmin::text) b`,
    );
    assert.ok(Number(largestBatch.rows[0]!.events) > 1, 'events were filed in batches before the kill');

    const second = spawnNode(MDA_MAIN, env);
    processes.push(second);
    await eventually(
      `all ${total} deliveries`,
      async () => {
        if (second.child.exitCode !== null) throw new Error(`restarted mda exited: ${output(second)}`);
        return (await delivered()) >= total;
      },
      240_000,
    );
    // A graceful stop: leave the group, close the adapters, exit 0.
    assert.equal((await second.stop('SIGTERM')).code, 0, `mda stopped cleanly on SIGTERM: ${output(second)}`);

    const perEvent = await pool.query<{ event_id: string; deliveries: string; messages: string }>(
      `SELECT d.event_id, count(*) AS deliveries,
              (SELECT count(*) FROM messages m WHERE m.received_event_id = d.event_id) AS messages
         FROM deliveries d GROUP BY d.event_id`,
    );
    assert.equal(
      perEvent.rowCount,
      EVENTS,
      `every event delivered (${atKill} of ${total} were in at the kill)`,
    );
    for (const row of perEvent.rows) {
      assert.equal(Number(row.deliveries), expected.get(row.event_id), `deliveries of ${row.event_id}`);
      assert.equal(Number(row.messages), expected.get(row.event_id), `messages of ${row.event_id}`);
    }
    // Carried bodies this small are kept in PostgreSQL by their filing (MDA_DATABASE_BODY_BYTES): the
    // kill also landed between batches that wrote them, and each is there, readable through the store.
    const stored = withStoredBodies(blobs, pool);
    for (const key of carriedKeys) {
      assert.notEqual(await stored.stat(key), null, `the carried body ${key} was stored with its filing`);
    }
    const kept = await pool.query('SELECT 1 FROM message_bodies WHERE blob_key = ANY($1::text[])', [
      carriedKeys,
    ]);
    assert.equal(kept.rowCount, carriedKeys.length, 'every carried body kept by its filing');
    const mailboxes = await pool.query<{
      account_id: string;
      uidnext: string;
      copies: string;
      max_uid: string;
    }>(
      `SELECT mb.account_id, mb.uidnext, count(mm.uid) AS copies, max(mm.uid) AS max_uid
         FROM mailboxes mb JOIN mailbox_messages mm ON mm.mailbox_id = mb.id
        GROUP BY mb.id ORDER BY mb.account_id, mb.id`,
    );
    assert.deepEqual(
      mailboxes.rows.map((r) => [r.account_id, Number(r.copies), Number(r.max_uid), Number(r.uidnext)]),
      [
        [accounts[0], EVENTS, EVENTS, EVENTS + 1],
        [accounts[1], EVENTS / 2, EVENTS / 2, EVENTS / 2 + 1],
        [accounts[1], EVENTS / 2, EVENTS / 2, EVENTS / 2 + 1],
      ],
      'UIDs 1..n with no gap and no reuse',
    );

    // Every event's sender got its vacation reply handed to the relay, none lost; a reply handed
    // over again (its event redelivered after the kill) is the same job, which the relay keeps once.
    const outbound = await stack.watch(outboundTopic);
    await eventually(
      'a reply job for every event',
      () => new Set(replyJobs().map((j) => j.originalEventId)).size === EVENTS,
      120_000,
    );
    function replyJobs() {
      return outbound.messages.map((m) => decodeOutboundMessage(m.value));
    }
    const jobIds = new Map<string, Set<string>>();
    for (const job of replyJobs()) {
      jobIds.set(job.originalEventId, (jobIds.get(job.originalEventId) ?? new Set()).add(job.eventId));
      stack.defer(() => blobs.delete(job.blobKey).catch(() => undefined));
    }
    for (const [eventId, ids] of jobIds) assert.equal(ids.size, 1, `one reply job id for ${eventId}`);
    t.diagnostic(`${replyJobs().length} reply jobs published for ${EVENTS} events`);
    const claims = await pool.query<{ n: string }>(
      'SELECT count(DISTINCT event_id) AS n FROM sieve_vacation_replies WHERE account_id = $1',
      [accounts[0]],
    );
    assert.equal(Number(claims.rows[0]!.n), EVENTS, 'one once-per-sender row per event');
  });
}
