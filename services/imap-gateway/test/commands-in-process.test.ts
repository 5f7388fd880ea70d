import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccountRef } from '@correo/directory';
import type { GatewayServices } from '../src/command-context.js';
import { InProcessGateway, SessionDriver } from './helpers/session-driver.js';
import { rawMessage } from './helpers/stack.js';

/**
 * IMAP commands driven through ImapSession with no socket and no shared backend: the store's own SQL
 * on an in-process PostgreSQL (PGlite), blobs in files, notify and limits in process. The socket and
 * client tests beside this file cover the connection; these cover what each command answers.
 */
describe('IMAP commands through the session, in process', () => {
  let gateway: InProcessGateway;
  let services: GatewayServices;
  const sessions: SessionDriver[] = [];

  before(async () => {
    gateway = await InProcessGateway.open();
    services = gateway.services;
  });
  after(async () => {
    await Promise.all(sessions.map((s) => s.end()));
    await gateway.close();
  });

  /**
   * A provisioned account whose INBOX holds "Message 1".."Message n", appended by another session. That
   * session SELECTs INBOX once, so the messages are no longer \Recent for the sessions of the tests.
   */
  async function mailbox(localPart: string, count: number): Promise<AccountRef> {
    const account = await gateway.account(localPart);
    const filer = await loggedIn(account);
    for (let i = 1; i <= count; i++) await filer.append('INBOX', rawMessage(`Message ${i}`, [`Body ${i}.`]));
    await filer.command('SELECT INBOX');
    await filer.command('LOGOUT');
    await filer.end();
    return account;
  }

  /** A session past LOGIN (the LOGIN command itself is tested with a password in the first tests). */
  async function loggedIn(account: AccountRef): Promise<SessionDriver> {
    const session = new SessionDriver(services);
    sessions.push(session);
    await session.authenticate(account);
    return session;
  }

  test('each command runs only in its state, and gets what the state holds', async () => {
    const { address } = await gateway.account('states', { password: true });
    const session = new SessionDriver(services);
    sessions.push(session);
    assert.match(
      (await session.command('SELECT INBOX')).status,
      /^BAD SELECT is not allowed in the not-authenticated state/,
    );
    await session.login(address, gateway.password);
    assert.equal(session.session.state, 'authenticated');
    assert.match(
      (await session.command('FETCH 1 FLAGS')).status,
      /^BAD FETCH is not allowed in the authenticated state/,
    );
    assert.match(
      (await session.command('LOGIN x y')).status,
      /^BAD LOGIN is not allowed in the authenticated state/,
    );
    assert.match((await session.command('SELECT INBOX')).status, /^OK \[READ-WRITE\]/);
    assert.equal(session.session.state, 'selected');
    assert.match((await session.command('CLOSE')).status, /^OK CLOSE completed/);
    assert.equal(session.session.state, 'authenticated');
    const logout = await session.command('LOGOUT');
    assert.deepEqual(logout.untagged, ['* BYE Logging out']);
    assert.equal(logout.then, 'close');
    assert.match((await session.command('NOOP')).status, /^BAD NOOP is not allowed in the logout state/);
  });

  test('LOGIN asks the connection layer for the account slot; a refusal is NO [LIMIT], still logged out', async () => {
    const account = await gateway.account('slots', { password: true });
    const { address } = account;
    const full = new SessionDriver(gateway.services, '127.0.0.1', () => false);
    assert.match((await full.command(`LOGIN ${address} "${gateway.password}"`)).status, /^NO \[LIMIT\]/);
    assert.equal(full.session.state, 'not-authenticated');
    assert.deepEqual(full.admissions, [account.accountId]);
    await full.end();
    const free = new SessionDriver(gateway.services);
    assert.match((await free.command(`LOGIN ${address} "${gateway.password}"`)).status, /^OK/);
    assert.deepEqual(free.admissions, [account.accountId]);
    await free.end();
  });

  test('SELECT and EXAMINE report the mailbox; a missing one is NONEXISTENT', async () => {
    const account = await mailbox('select', 3);
    const session = await loggedIn(account);
    const selected = await session.command('SELECT INBOX');
    assert.match(selected.status, /^OK \[READ-WRITE\] SELECT completed/);
    assert.ok(selected.untagged.includes('* 3 EXISTS'), selected.text);
    assert.ok(selected.untagged.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
    assert.ok(selected.untagged.includes('* OK [UIDNEXT 4] Predicted next UID'), selected.text);
    assert.ok(selected.untagged.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)));
    assert.ok(selected.untagged.some((l) => /^\* OK \[UNSEEN 1\]/.test(l)));
    const examined = await session.command('EXAMINE INBOX');
    assert.equal(examined.untagged[0], '* OK [CLOSED] Previous mailbox closed');
    assert.match(examined.status, /^OK \[READ-ONLY\] EXAMINE completed/);
    assert.match((await session.command('STORE 1 +FLAGS (\\Seen)')).status, /^NO \[READ-ONLY\]/);
    assert.match((await session.command('SELECT Nowhere')).status, /^NO \[NONEXISTENT\]/);
    assert.equal(session.session.state, 'authenticated');
  });

  test('FETCH: flags, header fields, bodies; BODY[] sets \\Seen and BODY.PEEK[] does not', async () => {
    const account = await mailbox('fetch', 3);
    const session = await loggedIn(account);
    await session.command('SELECT INBOX');
    const flags = await session.command('FETCH 1:* (UID FLAGS)');
    assert.deepEqual(flags.untagged, [
      '* 1 FETCH (UID 1 FLAGS ())',
      '* 2 FETCH (UID 2 FLAGS ())',
      '* 3 FETCH (UID 3 FLAGS ())',
    ]);
    const subject = await session.command('FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
    assert.match(
      subject.text,
      /^\* 2 FETCH \(BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: Message 2\r\n\r\n\)/,
    );
    const peek = await session.command('UID FETCH 3 (BODY.PEEK[TEXT])');
    assert.match(peek.text, /BODY\[TEXT\] \{\d+\}\r\nBody 3\.\r\n/);
    assert.doesNotMatch(peek.text, /\\Seen/);
    const read = await session.command('FETCH 3 BODY[]');
    assert.match(read.text, /Subject: Message 3\r\n/);
    assert.match(read.text, /FLAGS \(\\Seen\)/);
    assert.deepEqual((await session.command('FETCH 3 FLAGS')).untagged, ['* 3 FETCH (FLAGS (\\Seen))']);
  });

  test('STORE: +FLAGS, -FLAGS, .SILENT and UID STORE answer with the new flags', async () => {
    const account = await mailbox('store', 3);
    const session = await loggedIn(account);
    await session.command('SELECT INBOX');
    const added = await session.command('STORE 2 +FLAGS (\\Flagged $Important)');
    assert.match(added.status, /^OK STORE completed/);
    assert.ok(added.untagged.includes('* 2 FETCH (FLAGS ($Important \\Flagged))'), added.text);
    // $Important is new to the mailbox: FLAGS and PERMANENTFLAGS announce it before the FETCH.
    assert.match(added.untagged[0] ?? '', /^\* FLAGS \(.*\$Important\)/);
    const silent = await session.command('STORE 1 +FLAGS.SILENT (\\Answered)');
    assert.deepEqual(silent.untagged, []);
    const byUid = await session.command('UID STORE 2 -FLAGS (\\Flagged)');
    assert.deepEqual(byUid.untagged, ['* 2 FETCH (UID 2 FLAGS ($Important))']);
    const all = await session.command('FETCH 1:3 FLAGS');
    assert.deepEqual(all.untagged, [
      '* 1 FETCH (FLAGS (\\Answered))',
      '* 2 FETCH (FLAGS ($Important))',
      '* 3 FETCH (FLAGS ())',
    ]);
  });

  test('SEARCH and ESEARCH over flags, text and sequence sets', async () => {
    const account = await mailbox('search', 4);
    const session = await loggedIn(account);
    await session.command('SELECT INBOX');
    await session.command('STORE 2,4 +FLAGS.SILENT (\\Flagged)');
    assert.deepEqual((await session.command('SEARCH FLAGGED')).untagged, ['* SEARCH 2 4']);
    assert.deepEqual((await session.command('SEARCH UNFLAGGED')).untagged, ['* SEARCH 1 3']);
    assert.deepEqual((await session.command('SEARCH SUBJECT "Message 3"')).untagged, ['* SEARCH 3']);
    assert.deepEqual((await session.command('SEARCH BODY "Body 1."')).untagged, ['* SEARCH 1']);
    assert.deepEqual((await session.command('UID SEARCH 2:3')).untagged, ['* SEARCH 2 3']);
    const esearch = await session.command('SEARCH RETURN (MIN MAX COUNT) FLAGGED');
    assert.match(esearch.untagged[0] ?? '', /^\* ESEARCH \(TAG "t\d+"\) MIN 2 MAX 4 COUNT 2$/);
    const none = await session.command('SEARCH RETURN (MIN MAX) SUBJECT "no such"');
    assert.match(none.untagged[0] ?? '', /^\* ESEARCH \(TAG "t\d+"\)$/);
  });

  test('EXPUNGE removes \\Deleted; another session hears of it only where RFC 9051 7.5.1 allows', async () => {
    const account = await mailbox('expunge', 4);
    const session = await loggedIn(account);
    const other = await loggedIn(account);
    await session.command('SELECT INBOX');
    await other.command('SELECT INBOX');
    await session.command('STORE 2:3 +FLAGS.SILENT (\\Deleted)');
    const expunged = await session.command('EXPUNGE');
    assert.deepEqual(expunged.untagged, ['* 3 EXPUNGE', '* 2 EXPUNGE']);
    assert.deepEqual((await session.command('FETCH 1:* UID')).untagged, [
      '* 1 FETCH (UID 1)',
      '* 2 FETCH (UID 4)',
    ]);
    // The other session still numbers four messages while FETCH runs, and learns of the expunges after.
    const during = await other.command('FETCH 4 UID');
    assert.ok(during.untagged.includes('* 4 FETCH (UID 4)'), during.text);
    assert.ok(!during.untagged.some((l) => l.endsWith('EXPUNGE')), during.text);
    const noop = await other.command('NOOP');
    assert.deepEqual(
      noop.untagged.filter((l) => l.endsWith('EXPUNGE')),
      ['* 3 EXPUNGE', '* 2 EXPUNGE'],
    );
    await session.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await session.command('UID EXPUNGE 4')).untagged, []);
    assert.match((await session.command('CLOSE')).status, /^OK/);
    const reopened = await session.command('SELECT INBOX');
    assert.ok(reopened.untagged.includes('* 1 EXISTS'), reopened.text);
  });

  test("IDLE pushes new messages and other sessions' flag changes until DONE", async () => {
    const account = await mailbox('idle', 1);
    const idler = await loggedIn(account);
    const writer = await loggedIn(account);
    await idler.command('SELECT INBOX');
    const idle = idler.start('IDLE');
    await idler.waitFor(/^\+ idling\r\n/, idle.from);
    await writer.append('INBOX', rawMessage('Arrives during IDLE'));
    // The idler is the only session with INBOX selected: the new message is its \Recent one.
    await idler.waitFor(/\* 2 EXISTS\r\n\* 1 RECENT\r\n/, idle.from);
    await writer.command('SELECT INBOX');
    await writer.command('STORE 1 +FLAGS (\\Flagged)');
    await idler.waitFor(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)\)\r\n/, idle.from);
    idler.sendLine('DONE');
    const done = await idle.done;
    assert.match(done.status, /^OK IDLE terminated/);
    assert.deepEqual(done.untagged, [
      '+ idling',
      '* 2 EXISTS',
      '* 1 RECENT',
      '* 1 FETCH (UID 1 FLAGS (\\Flagged))',
    ]);
  });

  test('the first command that turns CONDSTORE on implicitly tells HIGHESTMODSEQ in its tagged OK', async () => {
    const account = await mailbox('condstore', 2);
    const session = await loggedIn(account);
    const selected = await session.command('SELECT INBOX');
    const highest = /HIGHESTMODSEQ (\d+)/.exec(selected.text)?.[1];
    assert.ok(highest, selected.text);
    const first = await session.command('FETCH 1 (UID MODSEQ)');
    assert.equal(first.status, `OK [HIGHESTMODSEQ ${highest}] FETCH completed`);
    assert.match(first.untagged[0] ?? '', /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$/);
    // Only the first: CONDSTORE is on from now on.
    assert.equal((await session.command('FETCH 2 (MODSEQ)')).status, 'OK FETCH completed');
  });

  test('COPY answers COPYUID; MOVE expunges the sources from the view', async () => {
    const account = await mailbox('move', 3);
    const session = await loggedIn(account);
    await session.command('SELECT INBOX');
    const copied = await session.command('COPY 1 Archive');
    assert.match(copied.status, /^OK \[COPYUID \d+ 1 1\] COPY completed/);
    const moved = await session.command('UID MOVE 2:3 Trash');
    assert.match(moved.untagged[0] ?? '', /^\* OK \[COPYUID \d+ 2:3 1:2\] Moved/);
    assert.deepEqual(moved.untagged.slice(1), ['* 3 EXPUNGE', '* 2 EXPUNGE']);
    assert.match((await session.command('COPY 1 Nowhere')).status, /^NO \[TRYCREATE\]/);
    const status = await session.command('STATUS Trash (MESSAGES)');
    assert.deepEqual(status.untagged, ['* STATUS Trash (MESSAGES 2)']);
  });

  test('\\Recent: the first SELECT takes the new messages, EXAMINE and IMAP4rev2 take none', async () => {
    const account = await gateway.account('recent');
    const filer = await loggedIn(account);
    for (let i = 1; i <= 2; i++) await filer.append('INBOX', rawMessage(`New ${i}`));
    const rev2 = await loggedIn(account);
    await rev2.command('ENABLE IMAP4rev2');
    const rev2Selected = await rev2.command('SELECT INBOX');
    assert.ok(!rev2Selected.untagged.some((l) => l.endsWith(' RECENT')), rev2Selected.text);
    assert.deepEqual((await rev2.command('FETCH 1 FLAGS')).untagged, ['* 1 FETCH (FLAGS ())']);
    const examiner = await loggedIn(account);
    assert.ok((await examiner.command('EXAMINE INBOX')).untagged.includes('* 2 RECENT'));
    const first = await loggedIn(account);
    assert.ok((await first.command('SELECT INBOX')).untagged.includes('* 2 RECENT'));
    assert.deepEqual((await first.command('SEARCH NEW')).untagged, ['* SEARCH 1 2']);
    assert.deepEqual((await first.command('STORE 2 +FLAGS (\\Seen)')).untagged, [
      '* 2 FETCH (FLAGS (\\Seen \\Recent))',
    ]);
    assert.deepEqual((await first.command('SEARCH NEW')).untagged, ['* SEARCH 1']);
    const second = await loggedIn(account);
    assert.ok((await second.command('SELECT INBOX')).untagged.includes('* 0 RECENT'));
    assert.deepEqual((await second.command('SEARCH OLD')).untagged, ['* SEARCH 1 2']);
    assert.deepEqual((await second.command('STATUS Archive (RECENT)')).untagged, [
      '* STATUS Archive (RECENT 0)',
    ]);
    await second.command('COPY 1:2 Archive');
    assert.deepEqual((await second.command('STATUS Archive (RECENT)')).untagged, [
      '* STATUS Archive (RECENT 2)',
    ]);
  });

  test('a selected mailbox deleted by another session ends the session with BYE', async () => {
    const account = await mailbox('deleted', 0);
    const reader = await loggedIn(account);
    const other = await loggedIn(account);
    assert.match((await other.command('CREATE Projects')).status, /^OK/);
    await other.append('Projects', rawMessage('Plan'));
    assert.match((await reader.command('SELECT Projects')).status, /^OK \[READ-WRITE\]/);
    assert.match((await other.command('DELETE Projects')).status, /^OK/);
    const noop = await reader.command('NOOP');
    assert.ok(noop.untagged.includes('* BYE The selected mailbox was deleted or recreated'), noop.text);
    assert.equal(reader.closed, true);
    assert.equal(reader.session.state, 'logout');
  });

  /**
   * A SELECT answered while a message arrives: the message is committed after SELECT read its snapshot
   * and heard of before the session had that mailbox selected (here: while SELECT writes its untagged
   * responses). The session must still see it at its next command, not only after some later change (a flaky
   * e2e spam-filter run waited 60 s for such a message with imapflow).
   */
  for (const from of ['another mailbox', 'the same mailbox']) {
    test(`a message heard of while SELECT INBOX is answered (from ${from}) is found by the next SEARCH`, async () => {
      const account = await mailbox(`select-race-${from.split(' ')[0]}`, 2);
      const filer = await loggedIn(account);
      const reader = new (class extends SessionDriver {
        /** Run once, when the SELECT's untagged block is written (before the mailbox is selected). */
        duringSelect: (() => Promise<void>) | null = null;
        override async write(...data: Buffer[]): Promise<void> {
          const hook = this.duringSelect;
          if (hook && Buffer.concat(data).toString('latin1').includes('[UIDNEXT ')) {
            this.duringSelect = null;
            await hook();
          }
          return super.write(...data);
        }
      })(services);
      sessions.push(reader);
      await reader.authenticate(account);
      await reader.ok(from === 'another mailbox' ? 'SELECT Junk' : 'SELECT INBOX');
      reader.duringSelect = async () => {
        // The in-process feed delivers on a later turn and may still carry earlier appends: wait for
        // this one's (UID 3), which every session subscribed before has heard by then.
        let heard!: () => void;
        const delivered = new Promise<void>((resolve) => (heard = resolve));
        const unsubscribe = await services.changes.subscribe(account.accountId, (change) => {
          if (change?.kind === 'append' && change.uid === 3) heard();
        });
        await filer.append('INBOX', rawMessage('Arrived during SELECT'));
        await delivered;
        await unsubscribe();
      };
      const selected = await reader.ok('SELECT INBOX');
      // The snapshot had two; the arrival heard meanwhile is reported before the tagged OK.
      const exists = selected.untagged.filter((line) => / EXISTS$/.test(line));
      assert.deepEqual(exists, ['* 2 EXISTS', '* 3 EXISTS'], selected.untagged.join('\n'));
      // imapflow searches the mailbox it has selected without a NOOP (which re-reads regardless).
      const search = await reader.command('SEARCH SUBJECT "Arrived during SELECT"');
      assert.deepEqual(search.untagged, ['* SEARCH 3'], search.text);
    });
  }
});
