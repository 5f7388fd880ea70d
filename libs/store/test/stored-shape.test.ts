import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { StoredShapeError, analyzeMessage, messageSummary } from '@correo/mime';
import { deliverToMailbox, readImapMessages, readImapSortRows } from '../src/index.js';
import { createAccount, migratedDatabase, writerFor } from './fixtures.js';

const database = migratedDatabase();

const RAW = Buffer.from(
  [
    'From: Ana <ana@remote.test>',
    'To: team: bob@example.test, carl@example.test;',
    'Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'hello',
    '--b',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    '',
    'inner body',
    '--b--',
    '',
  ].join('\r\n'),
);

async function deliverAnalysed() {
  const analysis = await analyzeMessage(Readable.from([RAW]));
  const to = await createAccount(database.pool);
  const outcome = await deliverToMailbox(writerFor(database.pool), {
    eventId: randomUUID(),
    recipient: to.address,
    accountId: to.accountId,
    message: { blobKey: analysis.sha256, internalDate: new Date(), ...messageSummary(analysis) },
  });
  assert.equal(outcome.kind, 'delivered');
  if (outcome.kind !== 'delivered') throw new Error('not delivered');
  return { analysis, ...outcome };
}

const read = (d: { accountId: string; mailboxId: string; uid: number }) =>
  readImapMessages(database.pool, d.accountId, d.mailboxId, [d.uid], { envelope: true, bodystructure: true });

test('ENVELOPE and BODYSTRUCTURE are stored with their version and read back as analysed', async () => {
  const delivered = await deliverAnalysed();
  const { rows } = await database.pool.query<{ e: number; b: number }>(
    `SELECT (envelope_json->>'version')::int AS e, (bodystructure_json->>'version')::int AS b
     FROM messages WHERE id = $1`,
    [delivered.messageId],
  );
  assert.deepEqual(rows[0], { e: 1, b: 1 });
  const [row] = await read(delivered);
  assert.deepEqual(row?.envelope, delivered.analysis.envelope);
  assert.deepEqual(row?.bodystructure, delivered.analysis.bodystructure);
  const [sortRow] = await readImapSortRows(database.pool, delivered.accountId, delivered.mailboxId, [
    delivered.uid,
  ]);
  assert.ok(sortRow?.keys, 'rows stored now carry their sort keys');
  assert.equal(sortRow?.source, null);
});

test('a row stored before versions were recorded reads as version 1', async () => {
  const delivered = await deliverAnalysed();
  await database.pool.query(
    `UPDATE messages SET envelope_json = envelope_json - 'version', bodystructure_json = bodystructure_json - 'version',
       sort_keys_filled = FALSE WHERE id = $1`,
    [delivered.messageId],
  );
  const [row] = await read(delivered);
  assert.deepEqual(row?.envelope, delivered.analysis.envelope);
  assert.deepEqual(row?.bodystructure, delivered.analysis.bodystructure);
  const [sortRow] = await readImapSortRows(database.pool, delivered.accountId, delivered.mailboxId, [
    delivered.uid,
  ]);
  assert.deepEqual(sortRow?.source?.envelope, delivered.analysis.envelope);
});

test('a row the reader cannot read is a StoredShapeError naming the message', async () => {
  const delivered = await deliverAnalysed();
  await database.pool.query(
    `UPDATE messages SET bodystructure_json = jsonb_set(bodystructure_json, '{parts,1,kind}', '"video"')
     WHERE id = $1`,
    [delivered.messageId],
  );
  await assert.rejects(read(delivered), (error: unknown) => {
    assert.ok(error instanceof StoredShapeError);
    assert.match(
      error.message,
      new RegExp(
        `^stored bodystructure cannot be read: parts\\.1\\.kind of UID ${delivered.uid} of mailbox ${delivered.mailboxId}: `,
      ),
    );
    return true;
  });
});
