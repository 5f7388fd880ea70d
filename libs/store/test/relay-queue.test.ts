import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  claimDueRelayJobs,
  createPool,
  deferRelayJob,
  finishedRelayRecipients,
  migrate,
  recordRelayOutcomes,
  relayQueueDepth,
  relayQueueOldestAgeSeconds,
  rescheduleRelayJob,
} from '../src/index.js';
import type { Pool } from '../src/index.js';

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 10 });
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

function job(jobId: string, nextAttemptAt: Date) {
  return {
    jobId,
    originalEventId: `${jobId}-event`,
    mailFrom: 'yo@miemail.test',
    destinationDomain: 'suemail.test',
    job: new Uint8Array([7]),
    blobKey: `${jobId}-blob`,
    attempts: 1,
    queuedAt: new Date(),
    nextAttemptAt,
    expiresAt: new Date(Date.now() + 3_600_000),
    lastError: '451 later',
    recipients: [
      { recipient: 'a@suemail.test', reply: '451 later' },
      { recipient: 'b@suemail.test', reply: '451 later' },
    ],
  };
}

test('the oldest queued job gives the queue its age; an empty queue is 0 s old', async () => {
  assert.equal(await relayQueueOldestAgeSeconds(pool), 0);
  const queuedAt = new Date(Date.now() - 600_000);
  await deferRelayJob(pool, { ...job('aged', new Date(Date.now() + 3_600_000)), queuedAt });
  const age = await relayQueueOldestAgeSeconds(pool);
  assert.ok(age >= 600, `queued 10 minutes ago, ${age} s old`);
  await recordRelayOutcomes(pool, 'aged', 1, [
    { recipient: 'a@suemail.test', outcome: 'delivered', reply: '250' },
    { recipient: 'b@suemail.test', outcome: 'delivered', reply: '250' },
  ]);
  assert.equal(await relayQueueOldestAgeSeconds(pool), 0);
});

test('deferring is idempotent by job id', async () => {
  const past = new Date(Date.now() - 1_000);
  assert.equal(await deferRelayJob(pool, job('idem', past)), true);
  assert.equal(await deferRelayJob(pool, job('idem', past)), false);
  assert.equal(await relayQueueDepth(pool), 1);
  await recordRelayOutcomes(pool, 'idem', 1, [
    { recipient: 'a@suemail.test', outcome: 'delivered', reply: '250' },
    { recipient: 'b@suemail.test', outcome: 'bounced', reply: '550' },
  ]);
  assert.equal(await relayQueueDepth(pool), 0);
  assert.deepEqual([...(await finishedRelayRecipients(pool, 'idem'))].sort(), [
    'a@suemail.test',
    'b@suemail.test',
  ]);
});

test('concurrent claims (several relay pods) take disjoint due jobs, and never jobs not yet due', async () => {
  const past = new Date(Date.now() - 1_000);
  const ids = Array.from({ length: 12 }, (_, i) => `due-${i}`);
  for (const id of ids) await deferRelayJob(pool, job(id, past));
  await deferRelayJob(pool, job('future', new Date(Date.now() + 3_600_000)));

  const claims = await Promise.all(
    Array.from({ length: 4 }, () => claimDueRelayJobs(pool, { limit: 5, leaseMs: 60_000 })),
  );
  const claimed = claims.flat().map((entry) => entry.jobId);
  assert.equal(new Set(claimed).size, claimed.length, 'a job was claimed twice');
  assert.deepEqual([...claimed].sort(), [...ids].sort());
  for (const entry of claims.flat()) {
    assert.equal(entry.attempts, 2);
    assert.ok(entry.nextAttemptAt > new Date(), 'the lease hides the job from the next pass');
    assert.deepEqual(
      entry.recipients.map((r) => r.recipient),
      ['a@suemail.test', 'b@suemail.test'],
    );
  }
  assert.deepEqual(await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 }), []);

  // One recipient done, the other rescheduled to now: the job comes back with only that one.
  await recordRelayOutcomes(pool, 'due-0', 2, [
    { recipient: 'a@suemail.test', outcome: 'delivered', reply: '250' },
  ]);
  await rescheduleRelayJob(pool, 'due-0', {
    nextAttemptAt: new Date(Date.now() - 1),
    lastError: '452 full',
    replies: [{ recipient: 'b@suemail.test', reply: '452 full' }],
  });
  const [again] = await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 });
  assert.equal(again?.jobId, 'due-0');
  assert.equal(again?.lastError, '452 full');
  assert.deepEqual(again?.recipients, [{ recipient: 'b@suemail.test', lastReply: '452 full' }]);
});
