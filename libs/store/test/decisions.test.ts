import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecisionWriter, listDecisions, recordDecisions, type Decision } from '../src/decisions.js';
import { migratedDatabase } from './fixtures.js';

const database = migratedDatabase();

const refusal = (clientIp: string, extra: Partial<Decision> = {}): Decision => ({
  service: 'smtp-ingress',
  listener: 'mx',
  stage: 'rcpt',
  outcome: 'rejected',
  reason: 'unknown_user',
  detail: '550 5.1.1 Recipient address rejected: no such user here',
  clientIp,
  ...extra,
});

test('the decision writer is bounded: beyond maxPending decisions are dropped and reported, never queued', async () => {
  const lost: number[] = [];
  const writer = new DecisionWriter(database.pool, { maxPending: 3, onLost: (count) => lost.push(count) });
  // One burst in one tick: the first write has not started, so only three fit.
  for (let i = 0; i < 10; i++) writer.record(refusal('192.0.2.1', { recipients: [`n${i}@x.test`] }));
  await writer.flush();
  assert.equal(lost.length, 7);
  const rows = await listDecisions(database.pool, { tenantId: null }, { clientIp: '192.0.2.1', limit: 100 });
  assert.deepEqual(rows.map((r) => r.recipients[0]).sort(), ['n0@x.test', 'n1@x.test', 'n2@x.test']);
});

test('client-chosen text is clipped, recipients lowercased, a write failure is reported and not thrown', async () => {
  await recordDecisions(database.pool, [
    refusal('192.0.2.2', { helo: 'h'.repeat(5000), recipients: ['Big@X.test'], detail: 'd'.repeat(5000) }),
  ]);
  const [row] = await listDecisions(database.pool, { tenantId: null }, { clientIp: '192.0.2.2', limit: 1 });
  assert.equal(row?.helo.length, 300);
  assert.equal(row?.detail.length, 1000);
  assert.deepEqual(row?.recipients, ['big@x.test']);

  const failures: string[] = [];
  const writer = new DecisionWriter(database.pool, {
    onLost: (count, error) => failures.push(`${count} ${error?.message}`),
  });
  writer.record(refusal('192.0.2.3', { stage: 'nowhere' as Decision['stage'] }));
  await writer.flush();
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /^1 .*mail_decisions_stage_check/);
});
