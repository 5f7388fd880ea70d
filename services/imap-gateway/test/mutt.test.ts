import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/**
 * mutt has no batch mode for reading, so it runs in a pseudo-terminal (util-linux `script`) with its
 * keystrokes pushed from the command line: open the mailbox over IMAPS, pipe the messages to files,
 * display one, quit. What lands in the files is what mutt fetched.
 */
describe('mutt reads the mailbox in batch mode', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let dir: string;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: false });
    account = await stack.account('mutt');
    await stack.deliver(account.accountId, account.address, rawMessage('For mutt', ['Read me with mutt.']));
    await stack.deliver(account.accountId, account.address, rawMessage('Second for mutt', ['Me too.']));
    dir = await mkdtemp(join(tmpdir(), 'mutt-'));
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('opens INBOX over IMAPS, pipes both messages out, reads the first (only that one becomes \\Seen)', async () => {
    await writeFile(join(dir, 'ca.pem'), stack.tls.cert);
    const first = join(dir, 'first.eml');
    const second = join(dir, 'second.eml');
    await writeFile(
      join(dir, 'muttrc'),
      [
        `set imap_user = "${account.address}"`,
        `set imap_pass = "${stack.password}"`,
        `set certificate_file = "${join(dir, 'ca.pem')}"`,
        'set ssl_force_tls = yes',
        'set ssl_verify_host = no',
        'set imap_check_subscribed = no',
        'set mail_check = 0',
        'set header_cache = ""',
        'set message_cachedir = ""',
        'set wait_key = no',
        'set sort = date',
        'set pipe_decode = no',
        'set confirmappend = no',
        'set move = no',
        `set folder = "imaps://localhost:${gateway.ports.imaps}/"`,
        '',
      ].join('\n'),
    );
    const keys = `<first-entry><pipe-message>cat > ${first}<enter><next-entry><pipe-message>cat > ${second}<enter><first-entry><display-message><exit><sync-mailbox><quit>`;
    const command = [
      'mutt',
      '-n',
      '-F',
      join(dir, 'muttrc'),
      '-f',
      `imaps://localhost:${gateway.ports.imaps}/INBOX`,
      '-e',
      `'push "${keys}"'`,
    ].join(' ');
    const result = await runProgram('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, TERM: 'xterm', HOME: dir },
      timeoutMs: 60_000,
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const texts = [await readFile(first, 'utf8'), await readFile(second, 'utf8')].join('\n---\n');
    assert.match(texts, /Subject: For mutt[\s\S]*Read me with mutt\./);
    assert.match(texts, /Subject: Second for mutt[\s\S]*Me too\./);
    const { rows } = await stack.pool.query<{ flags: string[] }>(
      `SELECT mm.flags FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = 'INBOX' ORDER BY mm.uid`,
      [account.accountId],
    );
    assert.deepEqual(
      rows.map((row) => row.flags.includes('\\Seen')),
      [true, false],
    );
  });
});
