import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createFsBlobStore } from '@correo/blobs';
import { runProgram, startAllInOneProcess } from '@correo/testkit';
import type { AllInOneProcess } from '@correo/testkit';

const CLIENTS = fileURLToPath(new URL('./fixtures/small_body_clients.py', import.meta.url));

/*
 * The embedded default keeps a small body in PostgreSQL (message_bodies, MDA_DATABASE_BODY_BYTES),
 * written by the filing transaction; IMAP FETCH and POP3 RETR must serve it from there exactly as
 * they serve a blob, through the blob store every service opens (libs/backends openBackends).
 */
let app: AllInOneProcess;
let db: pg.Client;

before(async () => {
  app = await startAllInOneProcess();
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
});
after(async () => {
  await db?.end();
  await app?.stop();
});

test('a small body is kept in PostgreSQL, not in a blob file, and served by IMAP FETCH and POP3 RETR', async () => {
  const subject = `small ${randomUUID()}`;
  const { code, stdout, stderr } = await runProgram('python3', [
    CLIENTS,
    app.host,
    String(app.ports.submission),
    String(app.ports.imap),
    String(app.ports.pop3),
    app.demo.address,
    app.demo.password,
    subject,
  ]);
  assert.equal(code, 0, stderr);
  const seen = JSON.parse(stdout) as Record<'imap_whole' | 'imap_partial' | 'pop3_retr', string>;

  const { rows } = await db.query<{ blob_key: string; bytes: Buffer }>(
    `SELECT m.blob_key, b.bytes FROM messages m JOIN message_bodies b ON b.blob_key = m.blob_key
      WHERE m.header_subject = $1`,
    [subject],
  );
  assert.equal(rows.length, 1, 'the body is in message_bodies');
  const { blob_key: key, bytes } = rows[0]!;
  const files = createFsBlobStore({ dir: join(app.dataDir, 'blobs') });
  assert.equal(await files.stat(key), null, 'no blob file was written for it');
  assert.ok(bytes.includes(`Subject: ${subject}`));

  assert.deepEqual(Buffer.from(seen.imap_whole, 'base64'), bytes, 'IMAP FETCH BODY[]');
  assert.deepEqual(
    Buffer.from(seen.imap_partial, 'base64'),
    bytes.subarray(0, 64),
    'IMAP FETCH BODY[]<0.64>',
  );
  assert.deepEqual(Buffer.from(seen.pop3_retr, 'base64'), bytes, 'POP3 RETR');
});
