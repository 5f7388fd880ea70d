import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSecret, readOrCreateSecret } from '../src/secrets.js';

// One base64url character in 64 is '-': over 2,000 draws a leading one is all but certain, and
// swaks/curl would read such a printed demo password as an option (a CI failure of make-dev.test.ts).
test('a generated secret never starts with "-" and keeps its length', () => {
  for (let i = 0; i < 2000; i++) {
    const secret = newSecret(18);
    assert.ok(!secret.startsWith('-'), secret);
    assert.equal(secret.length, 24);
    assert.match(secret, /^[A-Za-z0-9_][A-Za-z0-9_-]*$/);
  }
});

test('a secret is made once and read back on the next start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'correo-secret-'));
  try {
    const file = join(dir, 'demo-password');
    const first = await readOrCreateSecret(file);
    assert.equal(await readOrCreateSecret(file), first);
    assert.equal((await readFile(file, 'utf8')).trim(), first);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
