import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { decodeOutboundMessage } from '@correo/proto';
import {
  curl,
  eventually,
  pythonSmtp,
  queuedId,
  runProgram,
  swaks,
  swaksAuth,
  uniqueName,
} from '@correo/testkit';
import { publishAccepted } from './support/accepted-event.js';
import { AdminClient } from './support/admin-client.js';
import { readMailbox } from './support/mailbox-reader.js';
import { startMailStack, type MailStack, type TopicWatch } from './support/stacks.js';
import type { StackKind } from '@correo/testkit/stack';

const EXTERNAL = 'friend@elsewhere.test';
const CORREO_ADMIN = fileURLToPath(new URL('../../services/admin-api/bin/correo-admin.js', import.meta.url));

function message(from: string, to: string, subject: string): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@e2e.correo.test>`,
    '',
    'Hello from a client nobody here wrote.',
    '',
  ].join('\r\n');
}

function subjectOf(text: string): string | undefined {
  return /^Subject: (.*)$/m.exec(text)?.[1]?.trim();
}

const USERS = ['alice', 'bob', 'carol'];

/**
 * The reference flow of DESIGN.md from the outside: an operator provisions over the admin-api,
 * swaks, curl and Python's smtplib send, Python's poplib reads back, and SQL plus the bus show
 * what only they can (event ids, rejections, relay jobs). Runs unchanged on every stack. Every test
 * sends its own message and follows it to the end, so each runs alone (--test-name-pattern) and one
 * failure fails only its own test.
 */
export function mailJourney(kind: StackKind): void {
  const title = kind === 'embedded' ? 'the embedded default' : 'Kafka, PostgreSQL, MinIO and Redis';
  describe(`mail journey: ${title}`, () => {
    const run = uniqueName('j');
    const domain = `${run}.test`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const address = (local: string) => `${local}@${domain}`;
    let stack: MailStack;
    let db: pg.Client;
    let outbound: TopicWatch;
    const files: string[] = [];

    // The directory every test sends into: provisioned once, read-only for the tests.
    before(async () => {
      stack = await startMailStack(kind);
      db = new pg.Client({ connectionString: stack.app.databaseUrl });
      await db.connect();
      outbound = await stack.watch('mail.outbound');

      const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
      const tenant = await admin.createTenant(run);
      await admin.createDomain(domain, tenant.id);
      for (const user of USERS) await admin.createAccount(address(user), password);
      await admin.createAlias(address('team'), [address('alice'), address('bob'), EXTERNAL]);
      // The catch-all through the operator's CLI, the way the everyday tasks are done by hand.
      const cli = await runProgram(
        process.execPath,
        [CORREO_ADMIN, 'add-alias', `@${domain}`, address('carol'), '--json'],
        {
          env: { CORREO_API_URL: stack.app.adminUrl, CORREO_API_TOKEN: stack.app.adminToken },
        },
      );
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as { source: string }).source, `@${domain}`);
      await admin.createAlias(address('loop-a'), [address('loop-b')]);
      await admin.createAlias(address('loop-b'), [address('loop-a')]);
    });

    after(async () => {
      await outbound?.stop().catch(() => {});
      await db?.end().catch(() => {});
      await Promise.all(files.map((file) => rm(file, { force: true })));
      await stack?.close();
    });

    /** A message file of its own for curl's --upload-file. */
    async function messageFile(text: string): Promise<string> {
      const file = join(tmpdir(), `${uniqueName(run)}.eml`);
      files.push(file);
      await writeFile(file, text);
      return file;
    }

    /**
     * Follows one accepted message to the end: stored exactly once per recipient mailbox under the
     * 250's event id, read back over POP3 exactly there, and (external) handed to the relay as one
     * OutboundMessage carrying the very blob the mailboxes store - or (local only) not at all.
     */
    async function assertDelivered(
      subject: string,
      /** The server's replies to the client that sent it: the 250 names the event id. */
      replies: string[],
      /** Local parts of the accounts that must hold it exactly once (the others must not hold it). */
      mailboxes: string[],
      /** Whether the team alias's external target must get an OutboundMessage. */
      external = false,
    ): Promise<void> {
      const eventId = queuedId(replies);
      assert.ok(eventId, `${subject}: the 250 reply names the event id`);
      await eventually(
        `${subject}: every delivery`,
        async () => {
          const { rows } = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM deliveries WHERE event_id = $1',
            [eventId],
          );
          return rows[0]!.n >= mailboxes.length;
        },
        90_000,
      );
      const { rows } = await db.query<{ address: string }>(
        `SELECT a.address FROM messages m JOIN accounts a ON a.id = m.account_id
          WHERE m.received_event_id = $1 ORDER BY a.address`,
        [eventId],
      );
      assert.deepEqual(
        rows.map((r) => r.address),
        mailboxes.map(address).sort(),
        `${subject}: one stored copy per recipient account, carrying the 250's event id`,
      );

      // Read back as a user would: the message is in each of its maildrops once, and in no other.
      const pop3 = {
        address: '127.0.0.1',
        port: stack.app.ports.pop3,
        serverName: '127.0.0.1',
        caFile: stack.app.caFile,
      };
      for (const user of USERS) {
        const subjects = (await readMailbox('pop3', pop3, address(user), password)).map(subjectOf);
        const copies = subjects.filter((s) => s === subject).length;
        assert.equal(copies, mailboxes.includes(user) ? 1 : 0, `${subject} in ${user}'s maildrop over POP3`);
      }

      const jobsOf = () =>
        outbound.messages
          .map((m) => decodeOutboundMessage(m.value))
          .filter((job) => job.originalEventId === eventId);
      if (!external) {
        // Other runs may share the Kafka topic: only this message's own jobs are looked at.
        assert.deepEqual(jobsOf(), [], `${subject}: a local-only message is not handed to the relay`);
        return;
      }
      await eventually(`${subject}: the relay job`, () => jobsOf().length > 0);
      const jobs = jobsOf();
      // The bus is at-least-once: a repeat carries the same job id.
      assert.equal(new Set(jobs.map((job) => job.eventId)).size, 1, subject);
      const job = jobs[0]!;
      assert.equal(job.destinationDomain, 'elsewhere.test');
      assert.deepEqual(
        job.recipients.map((r) => r.address),
        [EXTERNAL],
      );
      const blobs = await db.query<{ blob_key: string }>(
        'SELECT DISTINCT blob_key FROM messages WHERE received_event_id = $1',
        [eventId],
      );
      assert.deepEqual(
        blobs.rows.map((r) => r.blob_key),
        [job.blobKey],
        'the relay gets the very blob the mailboxes store',
      );
    }

    /** swaks on the MX port from a remote sender to `to`; resolves with the server's replies. */
    async function sendByMx(to: string, subject: string): Promise<string[]> {
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.mx),
        '--from',
        'someone@remote.test',
        '--to',
        to,
        '--header',
        `Subject: ${subject}`,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      return result.replies;
    }

    test('swaks on the MX port delivers to a local account', async () => {
      const subject = `mx-swaks ${run}`;
      await assertDelivered(subject, await sendByMx(address('alice'), subject), ['alice']);
    });

    test('swaks on submission (STARTTLS, AUTH) to an alias with local and external targets', async () => {
      const subject = `submission-swaks ${run}`;
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.submission),
        '--tls',
        '--tls-verify',
        '--tls-ca-path',
        stack.app.caFile,
        ...swaksAuth(address('bob'), password),
        '--to',
        address('team'),
        '--header',
        `Subject: ${subject}`,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      assert.ok(
        result.replies.some((line) => line.startsWith('235 ')),
        'AUTH succeeded inside TLS',
      );
      await assertDelivered(subject, result.replies, ['alice', 'bob'], true);
    });

    test('curl smtp:// on the MX port: an unknown local part goes to the catch-all', async () => {
      const subject = `mx-curl ${run}`;
      const to = address(`nobody-${randomBytes(3).toString('hex')}`);
      const result = await curl([
        `smtp://127.0.0.1:${stack.app.ports.mx}`,
        '--mail-from',
        'someone@remote.test',
        '--mail-rcpt',
        to,
        '--upload-file',
        await messageFile(message('someone@remote.test', to, subject)),
      ]);
      assert.equal(result.exitCode, 0, result.output);
      await assertDelivered(subject, result.replies, ['carol']);
    });

    test('curl --ssl-reqd on submission with AUTH: user+tag reaches user', async () => {
      const subject = `submission-curl ${run}`;
      const to = address('alice+invoices');
      const result = await curl([
        `smtp://127.0.0.1:${stack.app.ports.submission}`,
        '--ssl-reqd',
        '--cacert',
        stack.app.caFile,
        '--user',
        `${address('carol')}:${password}`,
        '--mail-from',
        address('carol'),
        '--mail-rcpt',
        to,
        '--upload-file',
        await messageFile(message(address('carol'), to, subject)),
      ]);
      assert.equal(result.exitCode, 0, result.output);
      await assertDelivered(subject, result.replies, ['alice']);
    });

    test('smtplib over implicit TLS: one message to an account and to an alias', async () => {
      const subject = `submissions-python ${run}`;
      const result = await pythonSmtp({
        host: '127.0.0.1',
        port: stack.app.ports.submissions,
        mode: 'ssl',
        cafile: stack.app.caFile,
        user: address('alice'),
        password,
        send: {
          from: address('alice'),
          to: [address('carol'), address('team')],
          message: message(address('alice'), address('team'), subject),
        },
      });
      assert.equal(result.error, undefined);
      const replies = result.replies.map(([code, text]) => `${code} ${text}`);
      assert.deepEqual(
        replies.map((line) => line.slice(0, 3)),
        ['235', '250', '250', '250', '250'],
        replies.join('\n'),
      );
      await assertDelivered(subject, replies, ['alice', 'bob', 'carol'], true);
    });

    test('smtplib on the MX port: an alias and one of its members in one message', async () => {
      const subject = `mx-python ${run}`;
      const result = await pythonSmtp({
        host: '127.0.0.1',
        port: stack.app.ports.mx,
        mode: 'plain',
        send: {
          from: 'someone@remote.test',
          to: [address('team'), address('alice')],
          message: message('someone@remote.test', address('team'), subject),
        },
      });
      assert.equal(result.error, undefined);
      const replies = result.replies.map(([code, text]) => `${code} ${text}`);
      assert.deepEqual(
        replies.map((line) => line.slice(0, 3)),
        ['250', '250', '250', '250'],
      );
      await assertDelivered(subject, replies, ['alice', 'bob'], true);
    });

    test('AUTH before STARTTLS on submission works from loopback (the embedded allowance)', async () => {
      const subject = `loopback-auth ${run}`;
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.submission),
        ...swaksAuth(address('carol'), password),
        '--to',
        address('bob'),
        '--header',
        `Subject: ${subject}`,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      assert.doesNotMatch(result.output, /-> STARTTLS/, 'the session stayed plaintext');
      assert.ok(
        result.replies.some((line) => line.startsWith('235 ')),
        result.output,
      );
      await assertDelivered(subject, result.replies, ['bob']);
    });

    test('a relay attempt to a foreign domain on the MX port gets 554 5.7.1', async () => {
      const bySwaks = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.mx),
        '--from',
        'spammer@remote.test',
        '--to',
        'victim@foreign.test',
      ]);
      assert.notEqual(bySwaks.exitCode, 0);
      assert.ok(
        bySwaks.replies.some((line) => /^554 5\.7\.1 /.test(line)),
        bySwaks.output,
      );
      const byCurl = await curl([
        `smtp://127.0.0.1:${stack.app.ports.mx}`,
        '--mail-from',
        'spammer@remote.test',
        '--mail-rcpt',
        'victim@foreign.test',
        '--upload-file',
        await messageFile(message('spammer@remote.test', 'victim@foreign.test', 'relay')),
      ]);
      assert.notEqual(byCurl.exitCode, 0);
      assert.ok(
        byCurl.replies.some((line) => /^554 5\.7\.1 /.test(line)),
        byCurl.output,
      );
    });

    test('an alias loop is refused at RCPT with 550 5.4.6 and counted', async () => {
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.mx),
        '--from',
        'someone@remote.test',
        '--to',
        address('loop-a'),
      ]);
      assert.notEqual(result.exitCode, 0);
      assert.ok(
        result.replies.some((line) => /^550 5\.4\.6 /.test(line)),
        result.output,
      );
      assert.match(
        await stack.app.metrics(),
        /^correo_smtp_messages_rejected_total\{listener="mx",reason="alias_loop"\} [1-9]/m,
      );
    });

    test('an accepted event whose recipient has since become a loop is recorded, delivered nowhere', async () => {
      // As when the loop is created between RCPT and delivery: the event is on the bus already,
      // naming the blob of a message this test stored first.
      const first = queuedId(await sendByMx(address('alice'), `before-the-loop ${run}`));
      assert.ok(first, 'the 250 reply names the event id');
      await eventually('the first message to be stored', async () => {
        const { rowCount } = await db.query('SELECT 1 FROM messages WHERE received_event_id = $1', [first]);
        return rowCount === 1;
      });
      const { rows } = await db.query<{ blob_key: string; size: string; sha256: string }>(
        'SELECT blob_key, size, sha256 FROM messages WHERE received_event_id = $1',
        [first],
      );
      const blob = rows[0]!;
      const eventId = await publishAccepted(stack.bus, {
        recipient: address('loop-a'),
        blobKey: blob.blob_key,
        size: blob.size,
        sha256: blob.sha256,
      });
      await eventually('the loop to be recorded as a rejection', async () => {
        const { rows: rejections } = await db.query<{ reason: string }>(
          'SELECT reason FROM delivery_rejections WHERE event_id = $1',
          [eventId],
        );
        return rejections.length === 1 && rejections[0]!.reason === 'loop';
      });
      const delivered = await db.query('SELECT 1 FROM deliveries WHERE event_id = $1', [eventId]);
      assert.equal(delivered.rowCount, 0);
      const stored = await db.query('SELECT 1 FROM messages WHERE received_event_id = $1', [eventId]);
      assert.equal(stored.rowCount, 0);
    });
  });

  describe(`plaintext AUTH outside the allowance: ${title}`, () => {
    let stack: MailStack;
    before(async () => {
      stack = await startMailStack(kind, { SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'false' });
    });
    after(async () => {
      await stack?.close();
    });

    test('with SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK=false, AUTH before STARTTLS gets 530 5.7.0', async () => {
      const { address: user, password } = stack.app.demo;
      const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
      const refused = await pythonSmtp({
        host: '127.0.0.1',
        port: stack.app.ports.submission,
        mode: 'plain',
        commands: [`AUTH PLAIN ${plain}`],
      });
      assert.equal(refused.error, undefined);
      assert.match(refused.replies.map(([code, text]) => `${code} ${text}`).join('\n'), /^530 5\.7\.0 /);

      // The same credentials work once the session is encrypted.
      const allowed = await pythonSmtp({
        host: '127.0.0.1',
        port: stack.app.ports.submission,
        mode: 'starttls',
        cafile: stack.app.caFile,
        user,
        password,
      });
      assert.deepEqual(
        allowed.replies.map(([code]) => code),
        [220, 235],
      );
    });
  });
}
