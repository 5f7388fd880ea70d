import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceivedMessage, SessionStart } from './helpers/remote-mta.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import { eventually } from '@correo/testkit';

const YO = `yo@${LOCAL_DOMAIN}`;
/** Two destination domains on two remote servers, so each server's view is one domain's. */
const BUSY = { domain: 'busy.test', server: '127.0.0.1', jobs: 12 };
const OTHER = { domain: 'other.test', server: '127.0.0.2', jobs: 6 };
const MAX_CONNECTIONS = 2;
const MAX_MESSAGES = 3;
/** How slow the remote is to answer DATA once the first wave is through. */
const SLOW_DATA_MS = 100;
const SLOW_QUIT_MS = 300;

/** The most sessions a server held at once: it only grows when one starts. */
function peakSessions(starts: SessionStart[], server: string): number {
  return Math.max(0, ...starts.filter((s) => s.server === server).map((s) => s.open));
}

/**
 * Holds DATA replies until every server has `perServer` transactions waiting at the same moment,
 * so the test sees the relay use its whole allowance on both domains at once however fast or
 * loaded the machine is; after that every reply is merely slow. If that moment never comes (a
 * limit that is global, or below `perServer`), the hold gives up so the counts fail instead of
 * the test hanging.
 */
function holdUntilAllBusy(servers: string[], perServer: number) {
  const inData = new Map<string, number>();
  const peakInData = new Map<string, number>();
  const held: (() => void)[] = [];
  let openedBy: 'all busy' | 'gave up' | undefined;
  let giveUp: NodeJS.Timeout | undefined;
  const open = (why: 'all busy' | 'gave up') => {
    if (openedBy) return;
    openedBy = why;
    clearTimeout(giveUp);
    for (const release of held.splice(0)) release();
  };
  return {
    get openedBy() {
      return openedBy;
    },
    peakInData,
    async beforeDataReply(message: ReceivedMessage) {
      const now = (inData.get(message.server) ?? 0) + 1;
      inData.set(message.server, now);
      peakInData.set(message.server, Math.max(peakInData.get(message.server) ?? 0, now));
      try {
        if (!openedBy) {
          if (servers.every((server) => (inData.get(server) ?? 0) >= perServer)) open('all busy');
          else {
            giveUp ??= setTimeout(() => open('gave up'), 10_000);
            await new Promise<void>((resolve) => held.push(resolve));
          }
        }
        await sleep(SLOW_DATA_MS);
      } finally {
        inData.set(message.server, inData.get(message.server)! - 1);
      }
    },
    stop() {
      open('gave up');
    },
  };
}

describe('mta-relay connection limits (embedded stack, real SMTP servers on loopback)', () => {
  let stack: RelayStack;

  before(async () => {
    stack = await RelayStack.create('embedded', {
      maxConnectionsPerDomain: MAX_CONNECTIONS,
      maxMessagesPerConnection: MAX_MESSAGES,
      // Deferred jobs stay put until the test releases them all at once.
      retrySchedule: [600_000],
      queueBatch: 50,
    });
    for (const { domain, server } of [BUSY, OTHER]) {
      stack.dns.set(domain, { MX: [{ exchange: `mx.${domain}`, priority: 10 }] });
      stack.dns.set(`mx.${domain}`, { A: [server] });
    }
  });

  after(async () => {
    await stack?.close();
  });

  test('a backlog to two domains: at most RELAY_MAX_CONNECTIONS_PER_DOMAIN sessions each, both at once, every message delivered', async () => {
    // The bus hands the relay one job at a time, so a burst to one domain comes from the deferred
    // queue: greylisting defers every job once, then the whole backlog comes due together.
    const greylisted = new Set<string>();
    stack.remote.verdict = (recipient) => {
      if (greylisted.has(recipient)) return null;
      greylisted.add(recipient);
      return [451, '4.7.1 greylisted, come back later'];
    };
    const jobs: { jobId: string; subject: string }[] = [];
    for (const { domain, jobs: count } of [BUSY, OTHER]) {
      for (let i = 1; i <= count; i++) {
        const subject = `backlog ${domain} ${i}`;
        jobs.push({
          jobId: await stack.sendJob({ from: YO, to: [`m${i}@${domain}`], subject }),
          subject,
        });
      }
    }
    await eventually(
      'every job deferred',
      async () => {
        // Deferred: in the queue and no longer being attempted (a first attempt holds a row too).
        const { rows } = await stack.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM relay_queue WHERE claimed_until IS NULL',
        );
        return rows[0]!.n === jobs.length;
      },
      30_000,
    );
    assert.equal(stack.remote.received.length, 0);

    const gate = holdUntilAllBusy([BUSY.server, OTHER.server], MAX_CONNECTIONS);
    stack.remote.beforeDataReply = (message) => gate.beforeDataReply(message);
    // A session the relay has left stays the remote's until it answers QUIT.
    stack.remote.quitDelayMs = SLOW_QUIT_MS;
    try {
      // What admin-api's "retry now" does, for the whole backlog in one statement: one scheduler
      // pass claims every job and delivers them all concurrently.
      await stack.pool.query('UPDATE relay_queue SET next_attempt_at = now()');
      for (const { jobId } of jobs) {
        const outcomes = await stack.waitForOutcomes(jobId, 1);
        assert.deepEqual(
          outcomes.map((o) => [o.outcome, o.attempts]),
          [['delivered', 2]],
        );
      }
    } finally {
      gate.stop();
      stack.remote.beforeDataReply = async () => {};
      stack.remote.quitDelayMs = 0;
    }

    for (const { subject } of jobs) {
      assert.equal(
        stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}\r\n`)).length,
        1,
        subject,
      );
    }
    // Both remotes had two transactions in DATA at the same moment: the limit is per domain.
    assert.equal(gate.openedBy, 'all busy');
    assert.equal(gate.peakInData.get(BUSY.server), MAX_CONNECTIONS);
    assert.equal(gate.peakInData.get(OTHER.server), MAX_CONNECTIONS);
    // ...and neither ever held more than two sessions from the relay, parked idle ones included.
    assert.equal(peakSessions(stack.remote.sessions, BUSY.server), MAX_CONNECTIONS);
    assert.equal(peakSessions(stack.remote.sessions, OTHER.server), MAX_CONNECTIONS);

    // RELAY_MAX_MESSAGES_PER_CONNECTION holds under load too: 12 messages need at least 4 sessions.
    for (const { server, jobs: count } of [BUSY, OTHER]) {
      const perSession = new Map<string, number>();
      for (const m of stack.remote.received.filter((r) => r.server === server)) {
        perSession.set(m.sessionId, (perSession.get(m.sessionId) ?? 0) + 1);
      }
      assert.ok(
        [...perSession.values()].every((n) => n <= MAX_MESSAGES),
        JSON.stringify([...perSession]),
      );
      assert.ok(perSession.size >= Math.ceil(count / MAX_MESSAGES), `${server}: ${perSession.size} sessions`);
    }
  });
});
