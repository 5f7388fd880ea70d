import { test } from 'node:test';
import assert from 'node:assert/strict';
import argon2 from 'argon2';
import { hashPassword, passwordNeedsRehash, verifyAgainstDecoy, verifyPassword } from '../src/index.js';

test('hashes with argon2id and the OWASP parameters, salted', async () => {
  const first = await hashPassword('correct horse battery staple');
  const second = await hashPassword('correct horse battery staple');
  assert.match(first, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  assert.notEqual(first, second, 'each hash has its own salt');
});

test('verifies the right password and rejects a wrong one', async () => {
  const hash = await hashPassword('s3cret-ñandú');
  assert.equal(await verifyPassword(hash, 's3cret-ñandú'), true);
  assert.equal(await verifyPassword(hash, 's3cret-nandu'), false);
  assert.equal(await verifyPassword(hash, ''), false);
});

test('a malformed stored hash verifies nothing instead of throwing', async () => {
  assert.equal(await verifyPassword('not-a-hash', 'x'), false);
  assert.equal(await verifyPassword('', 'x'), false);
});

test('hashes made with weaker parameters are flagged for rehash', async () => {
  const weak = await argon2.hash('pw', {
    type: argon2.argon2id,
    memoryCost: 4096,
    timeCost: 1,
    parallelism: 1,
  });
  assert.equal(passwordNeedsRehash(weak), true);
  assert.equal(passwordNeedsRehash(await hashPassword('pw')), false);
  assert.equal(await verifyPassword(weak, 'pw'), true);
});

test('the decoy verification never succeeds', async () => {
  assert.equal(await verifyAgainstDecoy('correo-decoy-password-not'), false);
  assert.equal(await verifyAgainstDecoy('correo-decoy-password'), false);
});

test('a burst of password checks leaves libuv threads for file reads (blob reads are not queued behind hashes)', async () => {
  const { readFile } = await import('node:fs/promises');
  const hash = await hashPassword('burst');
  let finished = 0;
  // More checks than libuv's pool has threads (4 by default).
  const checks = Array.from({ length: 16 }, () =>
    verifyPassword(hash, 'burst').then((ok) => {
      finished++;
      return ok;
    }),
  );
  await readFile(new URL(import.meta.url));
  const finishedBeforeRead = finished;
  assert.deepEqual(await Promise.all(checks), Array(16).fill(true), 'every queued check still answers');
  // Without a cap, the read waits in libuv's queue behind at least 12 of the 16 hashes.
  assert.ok(finishedBeforeRead < 4, `the read waited for ${finishedBeforeRead} password checks`);
});
