import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { decodeOutboundMessage } from '@correo/proto';
import { curl, eventually, pythonSmtp, queuedId, runProgram, swaks, uniqueName } from '@correo/testkit';
import { publishAccepted } from './support/accepted-event.js';
import { AdminClient } from './support/admin-client.js';
import { readMailbox } from './support/mailbox-reader.js';
import type { MailStack, StartStack, TopicWatch } from './support/stacks.js';

const EXTERNAL = 'friend@elsewhere.test';
const CORREO_ADMIN = fileURLToPath(new URL('../../services/admin-api/bin/correo-admin.js', import.meta.url));

/** One message a real client sent, and where it must end up. */
interface Sent {
  subject: string;
  eventId: string;
  /** Local parts of the accounts that must hold it exactly once. */
  mailboxes: string[];
  /** Whether the team alias's external target must get an OutboundMessage. */
  external: boolean;
}

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

/**
 * The reference flow of DESIGN.md from the outside: an operator provisions over the admin-api,
 * swaks, curl and Python's smtplib send, Python's poplib reads back, and SQL plus the bus show
 * what only they can (event ids, rejections, relay jobs). Runs unchanged on every stack.
 */
export function mailJourney(title: string, start: StartStack): void {
  describe(`mail journey: ${title}`, () => {
    const run = uniqueName('j');
    const domain = `${run}.test`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const address = (local: string) => `${local}@${domain}`;
    const sent = new Map<string, Sent>();
    let stack: MailStack;
    let db: pg.Client;
    let outbound: TopicWatch;
    let messageFile: string;

    before(async () => {
      stack = await start();
      db = new pg.Client({ connectionString: stack.app.databaseUrl });
      await db.connect();
      outbound = await stack.watch('mail.outbound');
      messageFile = join(tmpdir(), `${run}.eml`);

      const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
      const tenant = await admin.createTenant(run);
      await admin.createDomain(domain, tenant.id);
      for (const user of ['alice', 'bob', 'carol']) await admin.createAccount(address(user), password);
      await admin.createAlias(address('team'), [address('alice'), address('bob'), EXTERNAL]);
      // The catch-all through the operator's CLI, the way the everyday tasks are done by hand.
      const cli = await runProgram(
        process.execPath,
        [CORREO_ADMIN, 'add-alias', `@${domain}`, address('carol'), '--json'],
        { env: { CORREO_API_URL: stack.app.adminUrl, CORREO_API_TOKEN: stack.app.adminToken } },
      );
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as { source: string }).source, `@${domain}`);
      await admin.createAlias(address('loop-a'), [address('loop-b')]);
      await admin.createAlias(address('loop-b'), [address('loop-a')]);
    });

    after(async () => {
      await outbound?.stop().catch(() => {});
      await db?.end().catch(() => {});
      if (messageFile) await rm(messageFile, { force: true });
      await stack?.close();
    });

    function record(
      label: string,
      subject: string,
      eventId: string | undefined,
      mailboxes: string[],
      external = false,
    ) {
      assert.ok(eventId, `${label}: the 250 reply names the event id`);
      sent.set(label, { subject, eventId, mailboxes, external });
    }

    test('swaks on the MX port delivers to a local account', async () => {
      const subject = `mx-swaks ${run}`;
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.mx),
        '--from',
        'someone@remote.test',
        '--to',
        address('alice'),
        '--header',
        `Subject: ${subject}`,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      record('mx-swaks', subject, queuedId(result.replies), ['alice']);
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
        '--auth',
        'PLAIN',
        '--auth-user',
        address('bob'),
        '--auth-password',
        password,
        '--from',
        address('bob'),
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
      record('submission-swaks', subject, queuedId(result.replies), ['alice', 'bob'], true);
    });

    test('curl smtp:// on the MX port: an unknown local part goes to the catch-all', async () => {
      const subject = `mx-curl ${run}`;
      const to = address(`nobody-${randomBytes(3).toString('hex')}`);
      await writeFile(messageFile, message('someone@remote.test', to, subject));
      const result = await curl([
        `smtp://127.0.0.1:${stack.app.ports.mx}`,
        '--mail-from',
        'someone@remote.test',
        '--mail-rcpt',
        to,
        '--upload-file',
        messageFile,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      record('mx-curl', subject, queuedId(result.replies), ['carol']);
    });

    test('curl --ssl-reqd on submission with AUTH: user+tag reaches user', async () => {
      const subject = `submission-curl ${run}`;
      const to = address('alice+invoices');
      await writeFile(messageFile, message(address('carol'), to, subject));
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
        messageFile,
      ]);
      assert.equal(result.exitCode, 0, result.output);
      record('submission-curl', subject, queuedId(result.replies), ['alice']);
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
      record('submissions-python', subject, queuedId(replies), ['alice', 'bob', 'carol'], true);
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
      record('mx-python', subject, queuedId(replies), ['alice', 'bob'], true);
    });

    test('AUTH before STARTTLS on submission works from loopback (the embedded allowance)', async () => {
      const subject = `loopback-auth ${run}`;
      const result = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(stack.app.ports.submission),
        '--auth',
        'PLAIN',
        '--auth-user',
        address('carol'),
        '--auth-password',
        password,
        '--from',
        address('carol'),
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
      record('loopback-auth', subject, queuedId(result.replies), ['bob']);
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
      await writeFile(messageFile, message('spammer@remote.test', 'victim@foreign.test', 'relay'));
      const byCurl = await curl([
        `smtp://127.0.0.1:${stack.app.ports.mx}`,
        '--mail-from',
        'spammer@remote.test',
        '--mail-rcpt',
        'victim@foreign.test',
        '--upload-file',
        messageFile,
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
      // As when the loop is created between RCPT and delivery: the event is on the bus already.
      const first = sent.get('mx-swaks')!;
      await eventually('the first message to be stored', async () => {
        const { rowCount } = await db.query('SELECT 1 FROM messages WHERE received_event_id = $1', [
          first.eventId,
        ]);
        return rowCount === 1;
      });
      const { rows } = await db.query<{ blob_key: string; size: string; sha256: string }>(
        'SELECT blob_key, size, sha256 FROM messages WHERE received_event_id = $1',
        [first.eventId],
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

    test('every message is stored exactly once per recipient mailbox, under its 250 event id', async () => {
      const expected = [...sent.values()];
      assert.equal(expected.length, 7, 'every sending test ran');
      const total = expected.reduce((n, s) => n + s.mailboxes.length, 0);
      await eventually(
        'every delivery',
        async () => {
          const { rows } = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1)',
            [expected.map((s) => s.eventId)],
          );
          return rows[0]!.n >= total;
        },
        90_000,
      );

      for (const s of expected) {
        const { rows } = await db.query<{ address: string }>(
          `SELECT a.address FROM messages m JOIN accounts a ON a.id = m.account_id
            WHERE m.received_event_id = $1 ORDER BY a.address`,
          [s.eventId],
        );
        assert.deepEqual(
          rows.map((r) => r.address),
          s.mailboxes.map(address).sort(),
          `${s.subject}: one stored copy per recipient account, carrying the 250's event id`,
        );
      }

      // Read back as a user would: each maildrop holds exactly the messages addressed to it.
      for (const user of ['alice', 'bob', 'carol']) {
        const pop3 = {
          address: '127.0.0.1',
          port: stack.app.ports.pop3,
          serverName: '127.0.0.1',
          caFile: stack.app.caFile,
        };
        const messages = await readMailbox('pop3', pop3, address(user), password);
        const subjects = messages.map(subjectOf).sort();
        const wanted = expected
          .filter((s) => s.mailboxes.includes(user))
          .map((s) => s.subject)
          .sort();
        assert.deepEqual(subjects, wanted, `${user}'s maildrop over POP3`);
      }
    });

    test("an alias's external target becomes an OutboundMessage on mail.outbound", async () => {
      const wanted = [...sent.values()].filter((s) => s.external);
      assert.equal(wanted.length, 3);
      await eventually('the relay jobs', () =>
        wanted.every((s) =>
          outbound.messages.some((m) => decodeOutboundMessage(m.value).originalEventId === s.eventId),
        ),
      );
      for (const s of wanted) {
        const jobs = outbound.messages
          .map((m) => decodeOutboundMessage(m.value))
          .filter((job) => job.originalEventId === s.eventId);
        // The bus is at-least-once: a repeat carries the same job id.
        assert.equal(new Set(jobs.map((job) => job.eventId)).size, 1, s.subject);
        const job = jobs[0]!;
        assert.equal(job.destinationDomain, 'elsewhere.test');
        assert.deepEqual(
          job.recipients.map((r) => r.address),
          [EXTERNAL],
        );
        const { rows } = await db.query<{ blob_key: string }>(
          'SELECT DISTINCT blob_key FROM messages WHERE received_event_id = $1',
          [s.eventId],
        );
        assert.deepEqual(
          rows.map((r) => r.blob_key),
          [job.blobKey],
          'the relay gets the very blob the mailboxes store',
        );
      }
      // Other runs may share the Kafka topic: only this run's local-only messages are checked for absence.
      const localOnly = new Set([...sent.values()].filter((s) => !s.external).map((s) => s.eventId));
      const strays = outbound.messages
        .map((m) => decodeOutboundMessage(m.value))
        .filter((job) => localOnly.has(job.originalEventId));
      assert.deepEqual(strays, [], 'local-only messages are not handed to the relay');
    });
  });

  describe(`plaintext AUTH outside the allowance: ${title}`, () => {
    let stack: MailStack;
    before(async () => {
      stack = await start({ SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'false' });
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
