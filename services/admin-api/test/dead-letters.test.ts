import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { archiveDeadLetter } from '@correo/store';
import { injectClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
const client = injectClient(api);

test('dead letters are listed and shown to the operator only; replay needs a bus', async () => {
  const run = randomBytes(3).toString('hex');
  const value = Buffer.from(`event ${run}`);
  await archiveDeadLetter(api().pool, {
    group: 'mda',
    topic: 'mail.accepted',
    partition: 2,
    offset: '9007199254740993', // past 2^53: offsets stay exact as decimal strings
    key: run,
    headers: { traceparent: '00-aa-bb-01' },
    value,
    error: 'cannot parse MIME structure',
    attempts: 5,
    failedAt: new Date('2026-01-02T03:04:05Z'),
  });

  const listed = await client.call('GET', '/v1/dead-letters');
  assert.equal(listed.status, 200);
  const letter = listed.body.items.find((l: { key: string }) => l.key === run);
  assert.ok(letter, JSON.stringify(listed.body));
  assert.equal(letter.offset, '9007199254740993');
  assert.equal(letter.size, value.length);
  assert.equal(letter.value, undefined, 'the list leaves the event bytes out');
  assert.equal(letter.replayCount, 0);

  const shown = await client.call('GET', `/v1/dead-letters/${letter.id}`);
  assert.equal(shown.status, 200);
  assert.equal(Buffer.from(shown.body.value, 'base64').toString(), value.toString());
  assert.deepEqual(shown.body.headers, { traceparent: '00-aa-bb-01' });

  assert.equal((await client.call('GET', '/v1/dead-letters/999999999')).status, 404);
  assert.equal((await client.call('GET', '/v1/dead-letters?state=gone')).status, 400);
  assert.deepEqual(
    (await client.call('GET', '/v1/dead-letters?state=replayed')).body.items.filter(
      (l: { key: string }) => l.key === run,
    ),
    [],
  );

  // This admin-api was built without a bus: it says so instead of pretending to replay.
  const replay = await client.call('POST', `/v1/dead-letters/${letter.id}/replay`);
  assert.equal(replay.status, 503, JSON.stringify(replay.body));
  assert.equal(replay.body.error.code, 'unavailable');

  const tenant = await client.call('POST', '/v1/tenants', { body: { name: `dlq-${run}` } });
  const token = (await client.call('POST', '/v1/tokens', { body: { name: 't', tenantId: tenant.body.id } }))
    .body.secret;
  for (const [method, path] of [
    ['GET', '/v1/dead-letters'],
    ['GET', `/v1/dead-letters/${letter.id}`],
    ['POST', `/v1/dead-letters/${letter.id}/replay`],
  ] as const) {
    const refused = await client.call(method, path, { token });
    assert.equal(refused.status, 403, `${method} ${path}`);
    assert.equal(refused.body.error.code, 'forbidden');
  }
});
