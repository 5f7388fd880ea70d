import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient, runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/** Every message file of a Maildir folder (new and cur), with its flags suffix. */
async function maildir(
  root: string,
  folder: string,
): Promise<{ file: string; dir: string; content: string }[]> {
  const out = [];
  for (const sub of ['new', 'cur']) {
    const dir = join(root, folder, sub);
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files) out.push({ file, dir, content: await readFile(join(dir, file), 'latin1') });
  }
  return out;
}

describe('mbsync (isync) syncs a whole account both ways', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let dir: string;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('distributed');
    gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: false });
    account = await stack.account('sync');
    dir = await mkdtemp(join(tmpdir(), 'mbsync-'));
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function sync(): Promise<void> {
    const result = await runProgram('mbsync', ['-c', join(dir, 'mbsyncrc'), '-a'], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, `mbsync failed:\n${result.stdout}\n${result.stderr}`);
  }

  test('down, up, and down again after changes on the server', async () => {
    const { accountId, address } = account;
    await stack.deliver(accountId, address, rawMessage('First'));
    await stack.deliver(accountId, address, rawMessage('Second'));
    await stack.deliver(accountId, address, rawMessage('Third'));
    await stack.deliver(accountId, address, rawMessage('Kept'), 'Archive');
    const mail = join(dir, 'mail');
    await mkdir(mail, { recursive: true });
    await writeFile(join(dir, 'ca.pem'), stack.tls.cert);
    await writeFile(
      join(dir, 'mbsyncrc'),
      [
        'IMAPAccount correo',
        'Host localhost',
        `Port ${gateway.ports.imap}`,
        `User ${address}`,
        `Pass "${stack.password}"`,
        'SSLType STARTTLS',
        `CertificateFile ${join(dir, 'ca.pem')}`,
        '',
        'IMAPStore remote',
        'Account correo',
        '',
        'MaildirStore local',
        `Path ${mail}/`,
        `Inbox ${mail}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel everything',
        'Far :remote:',
        'Near :local:',
        'Patterns *',
        'Create Both',
        'Expunge Both',
        `SyncState ${join(dir, 'state')}/`,
        '',
      ].join('\n'),
    );
    await mkdir(join(dir, 'state'), { recursive: true });

    // 1. Down: every folder and message of the account arrives.
    await sync();
    const inbox = await maildir(mail, 'INBOX');
    assert.equal(inbox.length, 3);
    assert.deepEqual(inbox.map((m) => /Subject: (\w+)/.exec(m.content)![1]).sort(), [
      'First',
      'Second',
      'Third',
    ]);
    assert.equal((await maildir(mail, 'Archive')).length, 1);
    for (const folder of ['Sent', 'Drafts', 'Trash', 'Junk'])
      assert.deepEqual(await maildir(mail, folder), []);

    // 2. Up: a local draft, a message marked read, one marked deleted (trashed) and a new folder.
    await writeFile(join(mail, 'Drafts', 'new', '1700000000.1.local'), rawMessage('Local draft'));
    const first = inbox.find((m) => m.content.includes('Subject: First'))!;
    const second = inbox.find((m) => m.content.includes('Subject: Second'))!;
    const flagged = (m: { file: string }, flags: string) => `${m.file.split(':2,')[0]}:2,${flags}`;
    await rename(join(first.dir, first.file), join(mail, 'INBOX', 'cur', flagged(first, 'S')));
    await rename(join(second.dir, second.file), join(mail, 'INBOX', 'cur', flagged(second, 'ST')));
    await mkdir(join(mail, 'Projects', 'cur'), { recursive: true });
    await mkdir(join(mail, 'Projects', 'new'), { recursive: true });
    await mkdir(join(mail, 'Projects', 'tmp'), { recursive: true });
    await writeFile(join(mail, 'Projects', 'new', '1700000000.2.local'), rawMessage('Plan'));
    await sync();
    assert.equal((await stack.uids(accountId, 'Drafts')).length, 1);
    assert.equal((await stack.uids(accountId, 'Projects')).length, 1);
    assert.deepEqual(await stack.uids(accountId), [1, 3]);
    const { rows } = await stack.pool.query<{ uid: string; flags: string[] }>(
      `SELECT mm.uid, mm.flags FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = 'INBOX' ORDER BY mm.uid`,
      [accountId],
    );
    assert.deepEqual(rows[0]!.flags, ['\\Seen']);

    // 3. Changes on the server: a delivery, a flag, an expunge; the next sync brings them down.
    await stack.deliver(accountId, address, rawMessage('Fourth'));
    // Another client, over implicit TLS: flags one message, expunges another.
    const other = await LineClient.connect(gateway.ports.imaps, {
      literals: true,
      tls: { ca: stack.tls.cert },
    });
    try {
      await other.readLine();
      assert.match((await other.command(`LOGIN ${address} "${stack.password}"`)).status, /^OK/);
      await other.command('SELECT INBOX');
      assert.match((await other.command('UID STORE 3 +FLAGS (\\Flagged)')).status, /^OK/);
      assert.match((await other.command('UID STORE 1 +FLAGS (\\Deleted)')).status, /^OK/);
      assert.match((await other.command('UID EXPUNGE 1')).status, /^OK/);
    } finally {
      other.destroy();
    }
    await sync();
    const after = await maildir(mail, 'INBOX');
    assert.deepEqual(after.map((m) => /Subject: (\w+)/.exec(m.content)![1]).sort(), ['Fourth', 'Third']);
    const third = after.find((m) => m.content.includes('Subject: Third'))!;
    assert.match(third.file, /:2,F$/);
  });
});
