import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseDsn } from '@correo/dsn';
import { eventually, startServiceProcess } from '@correo/testkit';
import type { ServiceProcess } from '@correo/testkit';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RELAYS = 3;
const DOMAINS = 6;
const JOBS = 60;
const YO = `yo@${LOCAL_DOMAIN}`;

/**
 * Several mta-relay processes (src/main.ts, as pods run it) in one consumer group over one bus and
 * one deferred queue: jobs from the bus are split by partition, deferred ones are retried by
 * whichever process's scheduler claims them first. Every recipient gets its copy exactly once,
 * every 5xx gets exactly one DSN, and the queue ends empty.
 */
describe(`${RELAYS} mta-relay processes sharing the bus and the deferred queue`, () => {
  let stack: RelayStack;
  const relays: ServiceProcess[] = [];

  before(async () => {
    stack = await RelayStack.create('embedded');
    // Only the processes relay here; the stack's mda stays to file the DSNs.
    await stack.stopRelay();
    for (let d = 0; d < DOMAINS; d++) {
      stack.dns.set(`far${d}.test`, { MX: [{ exchange: `mx.far${d}.test`, priority: 10 }] });
      stack.dns.set(`mx.far${d}.test`, { A: [['127.0.0.1', '127.0.0.2', '127.0.0.4'][d % 3]!] });
    }
    for (let i = 0; i < RELAYS; i++) {
      relays.push(
        await startServiceProcess(
          MAIN,
          stack.relayProcessEnv({
            RELAY_EHLO_NAME: `relay-${i}.miemail.test`,
            RELAY_RETRY_SCHEDULE: '100ms',
          }),
        ),
      );
    }
  });

  after(async () => {
    await Promise.all(relays.map((r) => r.process.stop('SIGKILL')));
    await stack?.close();
  });

  test(`${JOBS} jobs to ${DOMAINS} domains, a third greylisted once, a sixth refused: each relayed exactly once`, async () => {
    // Each greylisted recipient is refused at its first RCPT only; "nobody" always.
    const greylisted = new Set<string>();
    stack.remote.verdict = (recipient) => {
      if (recipient.startsWith('nobody')) return [550, '5.1.1 nobody here'];
      if (recipient.startsWith('grey') && !greylisted.has(recipient)) {
        greylisted.add(recipient);
        return [451, '4.7.1 greylisted, try again'];
      }
      return null;
    };
    const expected = new Map<string, string>();
    const jobIds: string[] = [];
    for (let j = 0; j < JOBS; j++) {
      const kind = j % 6 === 5 ? 'nobody' : j % 3 === 0 ? 'grey' : 'plain';
      const to = `${kind}-${j}@far${j % DOMAINS}.test`;
      const subject = `shared ${j}`;
      expected.set(subject, to);
      jobIds.push(await stack.sendJob({ from: YO, to: [to], subject }));
    }
    const refused = [...expected.values()].filter((to) => to.startsWith('nobody'));

    await eventually(
      'an outcome for every job',
      async () => {
        for (const relay of relays) {
          if (relay.process.child.exitCode !== null)
            throw new Error(`a relay exited: ${relay.process.stderr()}`);
        }
        const { rows } = await stack.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM relay_outcomes WHERE job_id::text = ANY($1::text[])',
          [jobIds],
        );
        return rows[0]!.n === JOBS;
      },
      120_000,
    );
    const { rows: outcomes } = await stack.pool.query<{
      recipient: string;
      outcome: string;
      attempts: number;
    }>('SELECT recipient, outcome, attempts FROM relay_outcomes WHERE job_id::text = ANY($1::text[])', [
      jobIds,
    ]);
    for (const o of outcomes) {
      const kind = o.recipient.split('-')[0];
      assert.equal(o.outcome, kind === 'nobody' ? 'bounced' : 'delivered', o.recipient);
      assert.equal(o.attempts, kind === 'grey' ? 2 : 1, `attempts of ${o.recipient}`);
    }
    assert.equal((await stack.pool.query('SELECT 1 FROM relay_queue')).rowCount, 0, 'the queue is empty');

    // Exactly once at the remote: one copy per delivered recipient, none for the refused ones.
    const copies = new Map<string, string[]>();
    for (const message of stack.remote.received) {
      const subject = /^Subject: (shared \d+)\r$/m.exec(message.raw.toString())?.[1];
      if (subject) copies.set(subject, [...(copies.get(subject) ?? []), ...message.recipients]);
    }
    for (const [subject, to] of expected) {
      assert.deepEqual(copies.get(subject) ?? [], to.startsWith('nobody') ? [] : [to], subject);
    }
    // The work was shared: more than one process delivered.
    const senders = new Set(
      stack.remote.received.filter((m) => m.raw.includes('Subject: shared ')).map((m) => m.ehloName),
    );
    assert.ok(senders.size >= 2, `delivered by ${[...senders].join(', ')}`);

    // One DSN per refused recipient, each naming its own.
    await eventually('the DSNs', async () => (await stack.inbox(YO)).length >= refused.length, 60_000);
    const told = (await stack.inbox(YO)).map((raw) => parseDsn(raw).recipients[0]!['final-recipient']);
    assert.deepEqual(told.sort(), refused.map((to) => `rfc822;${to}`).sort());

    const exits = await Promise.all(relays.map((r) => r.process.stop('SIGTERM')));
    assert.deepEqual(
      exits.map((e) => e.code),
      Array(RELAYS).fill(0),
      'every relay stopped cleanly on SIGTERM',
    );
  });
});
