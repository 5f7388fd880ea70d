import { createS3BlobStore } from '@correo/blobs';
import { collectBlobs, recordUnclaimedBlobs, withStoredBodies, type Pool } from '@correo/store';
import type { ReaderRecord } from './readers.js';

/** One line of load.py's output. */
export type LoadRecord =
  | {
      t: 'accepted';
      mid: string;
      rcpts: string[];
      kind: 'mx' | 'submission';
      sender: string;
      port: number;
      start: number;
      at: number;
      attempts: number;
      ambiguous: boolean;
      disposable: boolean;
    }
  | { t: 'retry'; mid: string; reason: string; port: number; at: number; ambiguous: boolean }
  | { t: 'refused'; mid: string; code: number; text: string; at: number }
  | { t: 'gave-up'; mid: string; rcpts: string[]; ambiguous: boolean; at: number }
  | { t: 'pop3'; account: string; port: number; retrieved: string[]; deleted: string[]; at: number }
  | { t: 'pop3-error'; account: string; port: number; error: string; maybeDeleted: string[]; at: number }
  | { t: 'done'; sender: number }
  | { t: 'pop3-done'; account: string };

export interface Directory {
  /** Local account addresses. */
  accounts: string[];
  /** alias -> the accounts it fans out to. */
  aliases: Record<string, string[]>;
  remoteDomain: string;
}

export interface CheckInput {
  pool: Pool;
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  load: LoadRecord[];
  readers: ReaderRecord[];
  /** What the remote site accepted; `acceptance`: the id of the acceptance each copy came from (remote-mx.ts acceptanceOf). */
  remote: { recipients: string[]; messageId: string; at: number; acceptance: string }[];
  directory: Directory;
  /** Log lines of every service process (killed ones too) saying something was dead-lettered. */
  deadLetteredLogLines: number;
}

export interface CheckResult {
  counts: {
    sent: number;
    accepted: number;
    retried4xx: number;
    retriedConnection: number;
    refused5xx: number;
    gaveUp: number;
    /** Local copies expected (one per 250'd message and local mailbox owner) and found. */
    expectedLocal: number;
    delivered: number;
    removedByClients: number;
    remoteExpected: number;
    remoteDelivered: number;
    remoteBounced: number;
    duplicates: number;
    /** Second copies of a message whose first 250 never reached its sender (RFC 1047; every MTA has them). */
    ambiguousDuplicates: number;
    lost: number;
    imapSessions: number;
    pop3Sessions: number;
  };
  /** Every violation found, one line each; the run is clean when it is empty. */
  violations: string[];
  /** What the run noticed that is no violation (the ambiguous copies, messages without a 250...). */
  notes: string[];
}

const normalise = (address: string) => address.toLowerCase();

/**
 * Everything the issue asks of a run, from the store itself and what the clients and the remote
 * site saw: each 250'd message is in each mailbox it belongs to exactly once (by idempotency key
 * and by Message-ID), each remote recipient got it once or its sender a DSN, UIDs never reused nor
 * assigned below one a client already saw, MODSEQ never going back, nothing half-stored, no dead
 * letter. Runs after the services stopped (the blob collection at the end needs a quiet store).
 */
export async function checkRun(input: CheckInput): Promise<CheckResult> {
  const { pool, load, readers, directory } = input;
  const violations: string[] = [];
  const notes: string[] = [];
  const accepted = load.filter((r): r is Extract<LoadRecord, { t: 'accepted' }> => r.t === 'accepted');
  const retries = load.filter((r): r is Extract<LoadRecord, { t: 'retry' }> => r.t === 'retry');
  const refused = load.filter((r) => r.t === 'refused');
  const gaveUp = load.filter((r): r is Extract<LoadRecord, { t: 'gave-up' }> => r.t === 'gave-up');
  for (const r of refused) violations.push(`5xx refused: ${JSON.stringify(r)}`);
  for (const r of gaveUp) notes.push(`sender gave up on ${r.mid} (never got a 250)`);

  // What clients removed on purpose: these may be absent.
  const removed = new Map<string, 'sure' | 'maybe'>();
  const remember = (account: string, mid: string, how: 'sure' | 'maybe') => {
    const key = `${normalise(account)}|${mid}`;
    if (removed.get(key) !== 'sure') removed.set(key, how);
  };
  for (const reader of readers) {
    for (const mid of reader.expunged) remember(reader.account, mid, 'sure');
    for (const mid of reader.maybeExpunged) remember(reader.account, mid, 'maybe');
    for (const v of reader.violations) violations.push(`IMAP ${reader.account}: ${v}`);
  }
  for (const r of load) {
    if (r.t === 'pop3') for (const mid of r.deleted) remember(r.account, mid, 'sure');
    if (r.t === 'pop3-error') for (const mid of r.maybeDeleted) remember(r.account, mid, 'maybe');
  }

  // Where each 250'd message belongs.
  const accounts = new Set(directory.accounts.map(normalise));
  const expectedLocal = new Map<string, { mid: string; account: string; ambiguous: boolean }>();
  const expectedRemote: { mid: string; recipient: string; sender: string; ambiguous: boolean }[] = [];
  for (const message of accepted) {
    for (const rcpt of message.rcpts.map(normalise)) {
      const owners = accounts.has(rcpt) ? [rcpt] : (directory.aliases[rcpt] ?? []).map(normalise);
      if (rcpt.endsWith(`@${directory.remoteDomain}`)) {
        expectedRemote.push({
          mid: message.mid,
          recipient: rcpt,
          sender: normalise(message.sender),
          ambiguous: message.ambiguous,
        });
        continue;
      }
      if (owners.length === 0) violations.push(`${message.mid}: recipient ${rcpt} is nobody's`);
      for (const account of owners)
        expectedLocal.set(`${account}|${message.mid}`, {
          mid: message.mid,
          account,
          ambiguous: message.ambiguous,
        });
    }
  }

  // Every stored copy: per account and Message-ID, with the event that filed it.
  const { rows } = await pool.query<{
    address: string;
    mid: string | null;
    event_id: string | null;
    mailbox: string;
    uid: string;
    idempotency_key: string | null;
  }>(
    `SELECT lower(a.address) AS address, m.header_message_id AS mid, m.received_event_id AS event_id,
            mb.name AS mailbox, mm.uid, mm.idempotency_key
     FROM mailbox_messages mm
     JOIN messages m ON m.id = mm.message_id
     JOIN accounts a ON a.id = mm.account_id
     JOIN mailboxes mb ON mb.id = mm.mailbox_id`,
  );
  const copies = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${row.address}|${row.mid ?? ''}`;
    copies.set(key, [...(copies.get(key) ?? []), row]);
  }
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  let ambiguousDuplicates = 0;
  let removedByClients = 0;
  for (const [key, expected] of expectedLocal) {
    const found = copies.get(key) ?? [];
    const removal = removed.get(key);
    if (found.length === 0) {
      if (removal) {
        removedByClients++;
        continue;
      }
      lost++;
      violations.push(`LOST: ${expected.mid} for ${expected.account} got 250 and is in no mailbox`);
      continue;
    }
    delivered++;
    if (found.length === 1) continue;
    const events = new Set(found.map((row) => row.event_id));
    if (expected.ambiguous && events.size === found.length) {
      ambiguousDuplicates += found.length - 1;
      notes.push(
        `${expected.mid} for ${expected.account}: ${found.length} copies from ${events.size} acceptances (the first 250 was lost with its connection)`,
      );
      continue;
    }
    duplicates += found.length - 1;
    violations.push(
      `DUPLICATE: ${expected.mid} for ${expected.account}: ${found.length} copies ` +
        found.map((row) => `${row.mailbox}/${row.uid} event ${row.event_id}`).join(', '),
    );
  }
  const unexpected = [...copies.keys()].filter(
    (key) => !expectedLocal.has(key) && key.split('|')[1]?.endsWith('@load.faults.test>'),
  );
  if (unexpected.length)
    notes.push(
      `${unexpected.length} stored copies of messages no sender got a 250 for (accepted, but the reply was lost)`,
    );

  // By idempotency key: one filing per event, recipient and account.
  const twice = await pool.query<{ event_id: string; account_id: string; n: number }>(
    `SELECT received_event_id AS event_id, account_id, count(*)::int AS n FROM messages
     WHERE received_event_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`,
  );
  for (const row of twice.rows)
    violations.push(`DUPLICATE by event: ${row.event_id} filed ${row.n} times for account ${row.account_id}`);
  const deliveredTwice = await pool.query<{ event_id: string; recipient: string; n: number }>(
    `SELECT event_id, recipient, count(*)::int AS n FROM deliveries GROUP BY event_id, recipient, account_id HAVING count(*) > 1`,
  );
  for (const row of deliveredTwice.rows)
    violations.push(`DUPLICATE delivery: ${row.event_id} to ${row.recipient} ${row.n} times`);

  // UIDs and MODSEQs in the store.
  const uids = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
     WHERE mm.uid >= mb.uidnext OR mm.modseq > mb.highestmodseq`,
  );
  if (uids.rows[0]!.n)
    violations.push(`${uids.rows[0]!.n} messages have a UID >= UIDNEXT or a MODSEQ above HIGHESTMODSEQ`);
  const expungedReused = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM expunged e JOIN mailbox_messages mm ON mm.mailbox_id = e.mailbox_id AND mm.uid = e.uid`,
  );
  if (expungedReused.rows[0]!.n)
    violations.push(`${expungedReused.rows[0]!.n} UIDs of expunged messages were given again`);

  // Remote recipients: once at the remote site, or a DSN to the sender.
  const s3 = createS3BlobStore({ ...input.s3, forcePathStyle: true });
  const blobs = withStoredBodies(s3, pool);
  let remoteDelivered = 0;
  let remoteBounced = 0;
  try {
    const atRemote = new Map<string, RemoteCopy[]>();
    for (const message of input.remote)
      for (const recipient of message.recipients) {
        const key = `${normalise(recipient)}|${message.messageId}`;
        atRemote.set(key, [...(atRemote.get(key) ?? []), message]);
      }
    for (const expected of expectedRemote) {
      const copies = atRemote.get(`${expected.recipient}|${expected.mid}`) ?? [];
      const n = copies.length;
      const judged = judgeRemoteCopies(copies, expected.ambiguous);
      if (judged !== 'none') remoteDelivered++;
      const described = () =>
        copies.map((c) => `${new Date(c.at).toISOString()} (acceptance ${c.acceptance || '?'})`).join(', ');
      if (judged === 'resent') {
        ambiguousDuplicates += n - 1;
        notes.push(
          `${expected.mid} to ${expected.recipient}: ${n} copies at the remote site from ${n} acceptances ` +
            `(the first 250 was lost with its connection): ${described()}`,
        );
      }
      if (judged === 'duplicate') {
        duplicates += n - 1;
        violations.push(
          `DUPLICATE at the remote site: ${expected.mid} to ${expected.recipient} ${n} times, at ${described()}`,
        );
      }
      if (judged !== 'none') continue;
      if (await hasDsn(pool, blobs, expected.sender, expected.mid)) {
        remoteBounced++;
        continue;
      }
      lost++;
      const queued = await pool.query<{ last_error: string; attempts: number }>(
        `SELECT q.last_error, q.attempts FROM relay_queue q JOIN accepted_messages a ON a.event_id = q.original_event_id
         WHERE a.message_id = $1`,
        [expected.mid],
      );
      const job = queued.rows[0];
      violations.push(
        `LOST: ${expected.mid} to ${expected.recipient} never arrived and ${expected.sender} got no DSN` +
          (job
            ? ` (its relay job is still queued after ${job.attempts} attempts, last error: ${job.last_error || 'none'})`
            : ''),
      );
    }

    // Nothing half-stored: each message row's body is readable.
    const keys = await pool.query<{ blob_key: string }>('SELECT DISTINCT blob_key FROM messages');
    for (const { blob_key } of keys.rows) {
      if (!(await blobs.stat(blob_key))) violations.push(`HALF-STORED: message body ${blob_key} is missing`);
    }
    // After collection, nothing stored that no row names.
    const unclaimed = await recordUnclaimedBlobs(pool, s3);
    const collection = await collectBlobs(pool, s3, {
      releasedGraceSeconds: 0,
      unclaimedGraceSeconds: 0,
      fenceSeconds: 3600,
    });
    notes.push(
      `blob collection at the end: ${unclaimed} stored blobs no row named (intake cut by a fault), ` +
        `${collection.collected.length} collected`,
    );
    const referenced = async (key: string) =>
      (
        await pool.query(
          `SELECT 1 WHERE EXISTS (SELECT 1 FROM messages WHERE blob_key = $1)
             OR EXISTS (SELECT 1 FROM relay_queue WHERE blob_key = $1)
             OR EXISTS (SELECT 1 FROM dead_letters WHERE blob_key = $1)`,
          [key],
        )
      ).rowCount! > 0;
    for await (const key of s3.list()) {
      if (!(await referenced(key)))
        violations.push(`ORPHAN: blob ${key} is stored and nothing references it`);
    }
    const bodies = await pool.query<{ blob_key: string }>(
      'SELECT blob_key FROM message_bodies b WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_key = b.blob_key)',
    );
    for (const { blob_key } of bodies.rows)
      violations.push(`ORPHAN: message_bodies row ${blob_key} that no message names`);
  } finally {
    await s3.close();
  }

  // Nothing dead-lettered.
  const dead = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
  if (dead.rows[0]!.n) violations.push(`DEAD LETTERS: ${dead.rows[0]!.n} in dead_letters`);
  if (input.deadLetteredLogLines)
    violations.push(`DEAD LETTERS: ${input.deadLetteredLogLines} "dead-lettered" log lines`);
  const queued = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM relay_queue');
  if (queued.rows[0]!.n) violations.push(`relay_queue still holds ${queued.rows[0]!.n} jobs after settling`);

  return {
    counts: {
      sent: new Set([...accepted, ...refused, ...gaveUp].map((r) => (r as { mid: string }).mid)).size,
      accepted: accepted.length,
      retried4xx: retries.filter((r) => /^4\d\d /.test(r.reason)).length,
      retriedConnection: retries.filter((r) => !/^4\d\d /.test(r.reason)).length,
      refused5xx: refused.length,
      gaveUp: gaveUp.length,
      expectedLocal: expectedLocal.size,
      delivered,
      removedByClients,
      remoteExpected: expectedRemote.length,
      remoteDelivered,
      remoteBounced,
      duplicates,
      ambiguousDuplicates,
      lost,
      imapSessions: readers.reduce((sum, r) => sum + r.sessions, 0),
      pop3Sessions: load.filter((r) => r.t === 'pop3').length,
    },
    violations,
    notes,
  };
}

/** One copy of a message the remote site accepted, and the acceptance (smtp-ingress event) it came from. */
export interface RemoteCopy {
  at: number;
  acceptance: string;
}

/**
 * The copies one remote recipient got of one message: none, once, a duplicate, or `resent`: more
 * than once only because its sender resent it after the 250 of its first try was lost with the
 * connection (RFC 1047: the message is `ambiguous`), each copy from an acceptance of its own. The
 * same rule as for local copies (distinct events); one acceptance delivered twice stays a duplicate.
 */
export function judgeRemoteCopies(
  copies: readonly RemoteCopy[],
  ambiguous: boolean,
): 'none' | 'once' | 'duplicate' | 'resent' {
  if (copies.length === 0) return 'none';
  if (copies.length === 1) return 'once';
  const acceptances = new Set(copies.map((c) => c.acceptance));
  return ambiguous && !acceptances.has('') && acceptances.size === copies.length ? 'resent' : 'duplicate';
}

/** A delivery status notification for `mid` in `sender`'s mailboxes (the relay's bounce names it). */
async function hasDsn(
  pool: Pool,
  blobs: ReturnType<typeof withStoredBodies>,
  sender: string,
  mid: string,
): Promise<boolean> {
  const { rows } = await pool.query<{ blob_key: string }>(
    `SELECT m.blob_key FROM messages m JOIN accounts a ON a.id = m.account_id
     WHERE lower(a.address) = $1 AND m.received_event_id IS NOT NULL AND m.header_from ILIKE '%mailer-daemon%'`,
    [sender],
  );
  for (const { blob_key } of rows) {
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(blob_key)) chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).toString('utf8').includes(mid)) return true;
  }
  return false;
}
