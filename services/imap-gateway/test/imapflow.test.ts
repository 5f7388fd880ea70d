import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import type { ImapGateway } from '../src/index.js';
import { DEFAULT_READ_TIMEOUT_MS, eventually } from '@correo/testkit';
import { imapMetrics } from '../src/metrics.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

/** IMAP sessions of this process in IDLE now (the gateway's own gauge). */
async function idleSessions(): Promise<number> {
  return (await imapMetrics.idleSessions.get()).values[0]?.value ?? 0;
}

const MULTIPART = [
  'From: "Ana Example" <ana@remote.test>',
  'To: bob@example.test, "Carl" <carl@example.test>',
  'Subject: =?utf-8?q?Caf=C3=A9?= report',
  'Message-ID: <report-1@remote.test>',
  'Date: Thu, 26 Nov 2026 06:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'See attached.',
  '--b1',
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Disposition: attachment; filename="report.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURl',
  'Y29kZT4+CnN0cmVhbQo=',
  '--b1--',
  '',
].join('\r\n');

function client(port: number, user: string, pass: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass },
    logger: false,
  });
}

/** Resolves with the first `exists` event whose count reaches `count`. */
function existsReaches(imap: ImapFlow, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // A push that never comes fails the test with what it waited for instead of hanging it.
    const timer = setTimeout(() => {
      imap.off('exists', listener);
      reject(new Error(`no EXISTS of ${count} within ${DEFAULT_READ_TIMEOUT_MS} ms`));
    }, DEFAULT_READ_TIMEOUT_MS);
    const listener = (event: { count: number }) => {
      if (event.count >= count) {
        clearTimeout(timer);
        imap.off('exists', listener);
        resolve(event.count);
      }
    };
    imap.on('exists', listener);
  });
}

for (const kind of STACK_KINDS) {
  describe(`imapflow against the gateway (${kind})`, () => {
    let stack: ImapTestStack;
    let gateway: ImapGateway;
    let account: { accountId: string; address: string };

    before(async () => {
      stack = await ImapTestStack.create(kind);
      gateway = await stack.gateway();
      account = await stack.account('flow');
      await stack.deliver(account.accountId, account.address, MULTIPART);
    });
    after(async () => {
      await stack.close();
    });

    test('fetches envelope, bodystructure and a body part', async () => {
      const imap = client(gateway.ports.imap, account.address, stack.password);
      await imap.connect();
      try {
        const lock = await imap.getMailboxLock('INBOX');
        try {
          const message = await imap.fetchOne('1', {
            envelope: true,
            bodyStructure: true,
            uid: true,
            flags: true,
          });
          assert.ok(message);
          assert.equal(message.uid, 1);
          assert.equal(message.envelope?.subject, 'Café report');
          assert.equal(message.envelope?.from?.[0]?.address, 'ana@remote.test');
          assert.deepEqual(
            message.envelope?.to?.map((a) => a.address),
            ['bob@example.test', 'carl@example.test'],
          );
          assert.equal(message.bodyStructure?.type, 'multipart/mixed');
          const parts = message.bodyStructure?.childNodes ?? [];
          assert.equal(parts[1]?.type, 'application/pdf');
          assert.equal(parts[1]?.dispositionParameters?.filename, 'report.pdf');
          const { content } = await imap.download('1', '2');
          const chunks: Buffer[] = [];
          for await (const chunk of content) chunks.push(chunk as Buffer);
          assert.ok(Buffer.concat(chunks).toString('latin1').startsWith('%PDF-1.4\n'));
        } finally {
          lock.release();
        }
      } finally {
        await imap.logout();
      }
    });

    test('IDLE hears a delivery (deliverToMailbox + notification) as EXISTS', async () => {
      const imap = client(gateway.ports.imap, account.address, stack.password);
      await imap.connect();
      try {
        const mailbox = await imap.mailboxOpen('INBOX');
        const before = mailbox.exists;
        const heard = existsReaches(imap, before + 1);
        // The event: the server counts the session in IDLE once it listens for changes (no sleep).
        const idlersBefore = await idleSessions();
        const idling = imap.idle();
        await eventually('the session to be in IDLE', async () => (await idleSessions()) > idlersBefore);
        await stack.deliver(account.accountId, account.address, rawMessage('While you idled'));
        assert.equal(await heard, before + 1);
        const latest = await imap.fetchOne('*', { envelope: true });
        assert.ok(latest);
        assert.equal(latest.envelope?.subject, 'While you idled');
        void idling;
      } finally {
        await imap.logout();
      }
    });
  });
}
