import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  claimDueRelayJobs,
  claimNewRelayJob,
  createPool,
  deferRelayJob,
  deleteRelayJob,
  finishedRelayRecipients,
  holdsRelayClaim,
  migrate,
  recordRelayOutcomes,
  relayQueueDepth,
  relayQueueOldestAgeSeconds,
  releaseRelayClaim,
  rescheduleRelayJob,
  retryRelayJobNow,
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
  const held = claims.flat().find((entry) => entry.jobId === 'due-0')!;
  await rescheduleRelayJob(
    pool,
    { jobId: 'due-0', token: held.claimToken! },
    {
      nextAttemptAt: new Date(Date.now() - 1),
      lastError: '452 full',
      replies: [{ recipient: 'b@suemail.test', reply: '452 full' }],
    },
  );
  const [again] = await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 });
  assert.equal(again?.jobId, 'due-0');
  assert.equal(again?.lastError, '452 full');
  assert.deepEqual(again?.recipients, [{ recipient: 'b@suemail.test', lastReply: '452 full' }]);
});

test('claims are fenced: a holder whose lease ran out and was replaced can neither record nor reschedule', async () => {
  await deferRelayJob(pool, job('fenced', new Date(Date.now() - 1_000)));
  // A lease that has run out by the time the next pass looks.
  const [first] = await claimDueRelayJobs(pool, { limit: 50, leaseMs: 1 });
  assert.equal(first?.jobId, 'fenced');
  const stale = { jobId: 'fenced', token: first!.claimToken! };
  await pool.query(
    `UPDATE relay_queue SET next_attempt_at = now(), claimed_until = now() WHERE job_id = 'fenced'`,
  );
  const [second] = await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 });
  assert.equal(second?.jobId, 'fenced');
  assert.notEqual(second!.claimToken, stale.token);
  const current = { jobId: 'fenced', token: second!.claimToken! };

  assert.equal(await holdsRelayClaim(pool, stale), false, 'the stale holder must not send');
  assert.equal(await holdsRelayClaim(pool, current), true);
  const delivered = [{ recipient: 'a@suemail.test', outcome: 'delivered' as const, reply: '250' }];
  assert.equal(await recordRelayOutcomes(pool, 'fenced', 2, delivered, stale), false);
  assert.equal(
    await rescheduleRelayJob(pool, stale, { nextAttemptAt: new Date(), lastError: 'stale', replies: [] }),
    false,
  );
  assert.equal((await finishedRelayRecipients(pool, 'fenced')).size, 0);

  // While the current holder has it, an operator's retry and delete leave it alone.
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM relay_queue WHERE job_id = 'fenced'`);
  const id = String(rows[0]!.id);
  assert.equal((await retryRelayJobNow(pool, { tenantId: null }, id))?.kind, 'in-flight');
  assert.equal((await deleteRelayJob(pool, { tenantId: null }, id))?.kind, 'in-flight');
  assert.deepEqual(await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 }), []);

  // The current holder's writes count, and end its claim.
  assert.equal(await recordRelayOutcomes(pool, 'fenced', 3, delivered, current), true);
  assert.equal(
    await rescheduleRelayJob(pool, current, {
      nextAttemptAt: new Date(Date.now() + 60_000),
      lastError: '451 later',
      replies: [{ recipient: 'b@suemail.test', reply: '451 later' }],
    }),
    true,
  );
  assert.equal((await retryRelayJobNow(pool, { tenantId: null }, id))?.kind, 'done');
  assert.equal((await deleteRelayJob(pool, { tenantId: null }, id))?.kind, 'done');
});

test('a job fresh from the bus is entered claimed: a second copy finds it taken; a finished one is not entered', async () => {
  const fresh = {
    jobId: 'fresh',
    originalEventId: 'fresh-event',
    mailFrom: 'yo@miemail.test',
    destinationDomain: 'suemail.test',
    job: new Uint8Array([7]),
    blobKey: 'sha256/fresh',
    queuedAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
    recipients: ['a@suemail.test', 'b@suemail.test'],
  };
  const first = await claimNewRelayJob(pool, fresh, 60_000);
  assert.deepEqual(first?.pending, ['a@suemail.test', 'b@suemail.test']);
  assert.equal(await claimNewRelayJob(pool, fresh, 60_000), null, 'a redelivered copy must not attempt it');
  assert.equal(await holdsRelayClaim(pool, first!.claim), true);
  assert.deepEqual(await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 }), []);

  // One recipient delivered, the other done too: the job leaves the queue; a late copy enters nothing.
  const done = [
    { recipient: 'a@suemail.test', outcome: 'delivered' as const, reply: '250' },
    { recipient: 'b@suemail.test', outcome: 'bounced' as const, reply: '550' },
  ];
  assert.equal(await recordRelayOutcomes(pool, 'fresh', 1, done, first!.claim), true);
  assert.equal(await claimNewRelayJob(pool, fresh, 60_000), null);
  const { rowCount } = await pool.query(`SELECT 1 FROM relay_queue WHERE job_id = 'fresh'`);
  assert.equal(rowCount, 0);

  // Half finished: only the other recipient is entered.
  await recordRelayOutcomes(pool, 'half', 1, [
    { recipient: 'a@suemail.test', outcome: 'delivered', reply: '250' },
  ]);
  const half = await claimNewRelayJob(pool, { ...fresh, jobId: 'half' }, 60_000);
  assert.deepEqual(half?.pending, ['b@suemail.test']);

  // An attempt that failed before sending gives the job back: the next pass takes it at once, and
  // as its first attempt still, since nothing reached a remote.
  await releaseRelayClaim(pool, half!.claim);
  const [again] = await claimDueRelayJobs(pool, { limit: 50, leaseMs: 60_000 });
  assert.equal(again?.jobId, 'half');
  assert.equal(again?.attempts, 1, 'the released claim was counted as an attempt');
});
