import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createFsBlobStore } from '@correo/blobs';
import { decodeMailAccepted } from '@correo/proto';
import { eventually, runProgram, uniqueName } from '@correo/testkit';
import { publishAccepted } from './support/accepted-event.js';
import { AdminClient } from './support/admin-client.js';
import { startMailStack, type MailStack, type TopicWatch } from './support/stacks.js';

const CORREO_ADMIN = fileURLToPath(new URL('../../services/admin-api/bin/correo-admin.js', import.meta.url));
const REPLAY_HEADER = 'correo-replay-of-dead-letter';

interface Letter {
  id: string;
  topic: string;
  error: string;
  replayCount: number;
  value?: string;
}

/**
 * A message that fails by itself (its blob is missing) is dead-lettered after its bounded
 * retries; the operator finds it with `correo-admin dlq list`, reads it with `dlq show`, fixes
 * the cause (restores the blob) and replays it twice with `dlq replay`: it is filed exactly once.
 */
describe('dead letters through correo-admin dlq', () => {
  const run = uniqueName('dlq');
  const domain = `${run}.test`;
  const recipient = `rita@${domain}`;
  const body = Buffer.from(
    [
      `From: <someone@remote.test>`,
      `To: <${recipient}>`,
      `Subject: restored ${run}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@e2e.correo.test>`,
      '',
      'This blob went missing and came back.',
      '',
    ].join('\r\n'),
  );
  const scratch = join(tmpdir(), `${run}-blobs`);
  let stack: MailStack;
  let db: pg.Client;
  let accepted: TopicWatch;
  let tenantToken: string;

  const cli = async (args: string[], token = stack.app.adminToken) => {
    const result = await runProgram(process.execPath, [CORREO_ADMIN, 'dlq', ...args], {
      env: {
        CORREO_API_URL: stack.app.adminUrl,
        CORREO_API_TOKEN: token,
      },
    });
    return result;
  };
  const journey = (eventId: string, token = stack.app.adminToken) =>
    runProgram(process.execPath, [CORREO_ADMIN, 'journey', eventId], {
      env: {
        CORREO_API_URL: stack.app.adminUrl,
        CORREO_API_TOKEN: token,
      },
    });
  const cliJson = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    // Two attempts of the message's own failure, then the dead letter.
    stack = await startMailStack('embedded', { BUS_MAX_ATTEMPTS: '2' });
    db = new pg.Client({ connectionString: stack.app.databaseUrl });
    await db.connect();
    accepted = await stack.watch('mail.accepted');
    const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
    const tenant = await admin.createTenant(run);
    await admin.createDomain(domain, tenant.id);
    await admin.createAccount(recipient, `pw-${randomBytes(9).toString('base64url')}`);
    const minted = await fetch(`${stack.app.adminUrl}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.app.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: run, tenantId: tenant.id }),
    });
    assert.equal(minted.status, 201);
    tenantToken = ((await minted.json()) as { secret: string }).secret;
  });

  after(async () => {
    await accepted?.stop().catch(() => {});
    await db?.end().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
    await stack?.close();
  });

  test('a poison event is listed, shown, replayed twice and filed once', async () => {
    // The blob's content address, computed in a store of our own: the stack does not have it.
    const stored = await createFsBlobStore({ dir: scratch }).put(Readable.from([body]));
    const eventId = await publishAccepted(stack.bus, {
      recipient,
      blobKey: stored.key,
      size: body.length,
      sha256: stored.sha256,
    });

    let letters: Letter[] = [];
    await eventually('the dead letter to be listed', async () => {
      letters = await cliJson<Letter[]>(['list']);
      return letters.length > 0;
    });
    assert.equal(letters.length, 1);
    const [letter] = letters as [Letter];
    assert.equal(letter.topic, 'mail.accepted');
    assert.match(letter.error, /blob not found/);
    assert.equal(letter.replayCount, 0);

    const shown = await cliJson<Letter>(['show', letter.id]);
    assert.equal(decodeMailAccepted(Buffer.from(shown.value!, 'base64')).eventId, eventId);

    // Its journey: accepted, the recipient still in transit, the dead letter and why.
    const stuck = await journey(eventId);
    assert.equal(stuck.code, 0, stuck.stderr);
    assert.match(stuck.stdout, new RegExp(`^ {2}${recipient}: in transit`, 'm'));
    assert.match(
      stuck.stdout,
      new RegExp(
        `dead-lettered on mail\\.accepted at \\S+ \\(dead letter ${letter.id}, pending\\): .*blob not found`,
      ),
    );
    // The tenant sees its message's journey, but not the dead letter (the operator's).
    const tenantView = await journey(eventId, tenantToken);
    assert.equal(tenantView.code, 0, tenantView.stderr);
    assert.match(tenantView.stdout, new RegExp(`^ {2}${recipient}: in transit`, 'm'));
    assert.doesNotMatch(tenantView.stdout, /dead-lettered/);

    // Dead letters are the operator's: a tenant token is refused, by the API and so by the CLI.
    const refused = await cli(['list'], tenantToken);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /operator only/);

    // The operator fixes the cause, then replays twice.
    await createFsBlobStore({ dir: join(stack.app.dataDir, 'blobs') }).put(Readable.from([body]));
    const first = await cliJson<Letter[]>(['replay', '--all']);
    assert.deepEqual(
      first.map((l) => [l.id, l.replayCount]),
      [[letter.id, 1]],
    );
    const second = await cliJson<Letter[]>(['replay', letter.id]);
    assert.deepEqual(
      second.map((l) => [l.id, l.replayCount]),
      [[letter.id, 2]],
    );

    // Both replays went through the normal path: wait until the mda committed past the second.
    let replays: { partition: number; offset: string }[] = [];
    await eventually('both replays on mail.accepted', () => {
      replays = accepted.messages.filter((m) => m.headers[REPLAY_HEADER] === letter.id);
      return replays.length === 2;
    });
    const last = replays[1]!;
    await eventually('the mda to commit past the second replay', async () => {
      const { rows } = await db.query<{ next_offset: string }>(
        `SELECT next_offset FROM bus.committed_offsets WHERE group_id = 'mda' AND topic = 'mail.accepted' AND partition = $1`,
        [last.partition],
      );
      return rows[0] !== undefined && BigInt(rows[0].next_offset) > BigInt(last.offset);
    });
    const filed = await db.query(
      `SELECT m.id FROM messages m JOIN accounts a ON a.id = m.account_id
       WHERE a.address = $1 AND m.received_event_id = $2`,
      [recipient, eventId],
    );
    assert.equal(filed.rowCount, 1, 'filed exactly once');
    const done = await journey(eventId);
    assert.equal(done.code, 0, done.stderr);
    assert.match(
      done.stdout,
      new RegExp(`^ {2}${recipient}: filed into INBOX of ${recipient} uid 1 at `, 'm'),
    );
    assert.match(done.stdout, new RegExp(`\\(dead letter ${letter.id}, replayed 2x\\)`));
    assert.deepEqual(await cliJson<Letter[]>(['list']), [], 'nothing pending any more');
    const all = await cliJson<Letter[]>(['list', '--state', 'all']);
    assert.deepEqual(
      all.map((l) => l.id),
      [letter.id],
    );
  });
});
