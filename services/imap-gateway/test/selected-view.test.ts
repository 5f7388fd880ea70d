import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, okCommand as ok, rawMessage } from './helpers/stack.js';

/**
 * Commands on the selected mailbox that the session answers from its view instead of reading the
 * store again. What the client is told must be what a fresh read tells, whatever changed meanwhile.
 */
describe('the selected mailbox from the view', () => {
  let stack: ImapTestStack;
  let pod: ImapGateway;
  const open: LineClient[] = [];

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    pod = await stack.gateway();
  });
  after(async () => {
    for (const client of open) client.destroy();
    await stack.close();
  });

  /** A logged-in session on `on` (another gateway stands for another pod). */
  async function login(address: string, on: ImapGateway = pod): Promise<LineClient> {
    const client = await LineClient.imapLogin(on.ports.imap, address, stack.password);
    open.push(client);
    return client;
  }

  describe('SELECT of the mailbox already selected (no re-read of every message)', () => {
    /** SELECT's untagged responses without the lines that differ between sessions by design. */
    const comparable = (lines: string[]) =>
      lines.filter((line) => !/ RECENT$|\[CLOSED\]/.test(line)).map((line) => line.replace(/\s+$/, ''));

    test("another session's changes are all in the second SELECT, as in a fresh session's first", async () => {
      const account = await stack.account('reselect');
      for (let i = 1; i <= 3; i++)
        await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
      const a = await login(account.address);
      const b = await login(account.address);

      const first = await ok(a, 'SELECT INBOX');
      assert.ok(first.includes('* 3 EXISTS') && first.includes('* 3 RECENT'), first.join('\n'));

      // Meanwhile, elsewhere: a keyword, \Seen, an expunge, an APPEND, and a delivery.
      await ok(b, 'SELECT INBOX');
      await ok(b, 'STORE 1 +FLAGS (\\Seen project-x)');
      await ok(b, 'STORE 2 +FLAGS.SILENT (\\Deleted)');
      await ok(b, 'EXPUNGE');
      await ok(b, 'CLOSE');
      const tag = b.allocateTag();
      const appended = rawMessage('Appended');
      b.write(`${tag} APPEND INBOX {${Buffer.byteLength(appended)}+}\r\n${appended}\r\n`);
      assert.match((await b.collect(tag)).status, /^OK/);
      await stack.deliver(account.accountId, account.address, rawMessage('Delivered'));

      const second = await ok(a, 'SELECT INBOX');
      assert.ok(
        second.some((line) => line.includes('[CLOSED]')),
        second.join('\n'),
      );
      assert.ok(!second.some((line) => / EXPUNGE$/.test(line)), 'a new SELECT reports no EXPUNGE');
      // The two messages that arrived were claimed by nobody before: this SELECT's \Recent.
      assert.ok(second.includes('* 2 RECENT'), second.join('\n'));

      const c = await login(account.address);
      const fresh = await ok(c, 'SELECT INBOX');
      assert.ok(fresh.includes('* 0 RECENT'), fresh.join('\n'));
      assert.deepEqual(comparable(second), comparable(fresh));
      assert.ok(fresh.includes('* 4 EXISTS'), fresh.join('\n'));
      assert.ok(
        fresh.some((line) => line.startsWith('* FLAGS') && line.includes('project-x')),
        fresh.join('\n'),
      );

      // The messages and their flags as the re-selected session now sees them, against the fresh one.
      const flags = (lines: string[]) => lines.map((line) => line.replace(/ ?\\Recent/, ''));
      assert.deepEqual(
        flags(await ok(a, 'FETCH 1:* (UID FLAGS)')),
        flags(await ok(c, 'FETCH 1:* (UID FLAGS)')),
      );
      assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 3 4']);
    });

    test('its own expunge and APPEND, and EXAMINE after SELECT, read as a fresh session reads', async () => {
      const account = await stack.account('reselect-own');
      for (let i = 1; i <= 2; i++)
        await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
      const a = await login(account.address);
      await ok(a, 'SELECT INBOX');
      await ok(a, 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      await ok(a, 'EXPUNGE');
      const tag = a.allocateTag();
      const appended = rawMessage('Own');
      a.write(`${tag} APPEND INBOX (\\Flagged) {${Buffer.byteLength(appended)}+}\r\n${appended}\r\n`);
      assert.match((await a.collect(tag)).status, /^OK/);
      const again = await ok(a, 'SELECT INBOX');
      const examined = await ok(a, 'EXAMINE INBOX');
      const c = await login(account.address);
      const fresh = await ok(c, 'SELECT INBOX');
      assert.deepEqual(comparable(again), comparable(fresh));
      assert.ok(fresh.includes('* 2 EXISTS'), fresh.join('\n'));
      // EXAMINE reads the store (read-only: PERMANENTFLAGS empty) and agrees on the rest.
      const withoutAccess = (lines: string[]) =>
        comparable(lines).filter((line) => !line.includes('PERMANENTFLAGS'));
      assert.deepEqual(withoutAccess(examined), withoutAccess(fresh));
    });
  });

  /**
   * APPEND into the selected mailbox: the session claims \Recent for what it appends in the APPEND's
   * own statement and its view takes the new messages without a re-read, unless something else changed
   * the mailbox meanwhile (then it re-reads). Either way the client is told the same: EXISTS, RECENT, a
   * new keyword in FLAGS, and \Recent on exactly the messages no one claimed before.
   */
  describe('APPEND into the selected mailbox', () => {
    async function append(client: LineClient, flags: string, subject: string): Promise<string[]> {
      const message = rawMessage(subject);
      const tag = client.allocateTag();
      client.write(`${tag} APPEND INBOX ${flags} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
      const done = await client.collect(tag);
      assert.match(done.status, /^OK \[APPENDUID /, done.status);
      return done.untagged;
    }

    async function accountWith(name: string, count: number) {
      const account = await stack.account(name);
      for (let i = 1; i <= count; i++)
        await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
      return account;
    }

    test('nothing else changed: EXISTS, RECENT and the new keyword at once; the message is \\Recent to the appender only', async () => {
      const account = await accountWith('append-quiet', 1);
      const a = await login(account.address);
      assert.ok((await ok(a, 'SELECT INBOX')).includes('* 1 RECENT'));
      const untagged = await append(a, '(\\Flagged tag1)', 'Own');
      assert.ok(
        untagged.some((line) => line.startsWith('* FLAGS') && line.includes('tag1')),
        untagged.join('\n'),
      );
      assert.ok(untagged.includes('* 2 EXISTS') && untagged.includes('* 2 RECENT'), untagged.join('\n'));
      assert.deepEqual(await ok(a, 'FETCH 2 (FLAGS)'), ['* 2 FETCH (FLAGS (\\Flagged tag1 \\Recent))']);
      // It is in the store as the view holds it: a second session reads the same flags, nothing recent.
      const b = await login(account.address);
      assert.ok((await ok(b, 'SELECT INBOX')).includes('* 0 RECENT'));
      assert.deepEqual(await ok(b, 'FETCH 2 (FLAGS)'), ['* 2 FETCH (FLAGS (\\Flagged tag1))']);
      // The next change is heard and read as usual.
      await ok(b, 'STORE 2 +FLAGS (\\Seen)');
      assert.ok(
        (await ok(a, 'FETCH 2 (FLAGS)')).includes('* 2 FETCH (FLAGS (\\Flagged \\Seen tag1 \\Recent))'),
      );
    });

    test('a delivery the session has not read yet: the APPEND claims nothing itself, the re-read claims both', async () => {
      const account = await accountWith('append-delivery', 1);
      const a = await login(account.address);
      await ok(a, 'SELECT INBOX');
      // A delivery arrives while A is between commands: unclaimed until A reads it.
      await stack.deliver(account.accountId, account.address, rawMessage('Delivered'));
      const untagged = await append(a, '()', 'Own');
      // Message 1 was this session's from its SELECT; 2 and 3 are claimed by the re-read.
      assert.ok(untagged.includes('* 3 EXISTS') && untagged.includes('* 3 RECENT'), untagged.join('\n'));
      assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 1 2 3']);
      const b = await login(account.address);
      assert.ok((await ok(b, 'SELECT INBOX')).includes('* 0 RECENT'));
    });

    test("another session's flag change first: the view re-reads, and still shows its APPEND as \\Recent", async () => {
      const account = await accountWith('append-flags', 1);
      const a = await login(account.address);
      const b = await login(account.address);
      await ok(a, 'SELECT INBOX');
      await ok(b, 'SELECT INBOX');
      await ok(b, 'STORE 1 +FLAGS (\\Answered)');
      const untagged = await append(a, '(\\Draft)', 'Own');
      assert.ok(untagged.includes('* 2 EXISTS') && untagged.includes('* 2 RECENT'), untagged.join('\n'));
      assert.deepEqual(await ok(a, 'FETCH 1:2 (FLAGS)'), [
        '* 1 FETCH (FLAGS (\\Answered \\Recent))',
        '* 2 FETCH (FLAGS (\\Draft \\Recent))',
      ]);
      assert.deepEqual(await ok(b, 'NOOP'), ['* 2 EXISTS', '* 0 RECENT']);
    });
  });
  describe('FETCH of what never changes, kept for every session of the process', () => {
    test('envelopes and bodies read before come with the flags of now, per mailbox', async () => {
      const account = await stack.account('fetch-cache');
      await stack.deliver(account.accountId, account.address, rawMessage('Inbox one'));
      await stack.deliver(account.accountId, account.address, rawMessage('Inbox two'));
      const a = await login(account.address);
      const b = await login(account.address);
      await ok(a, 'CREATE Other');
      const message = rawMessage('Other one');
      const tag = a.allocateTag();
      a.write(`${tag} APPEND Other (\\Seen) {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
      assert.match((await a.collect(tag)).status, /^OK/);

      await ok(a, 'SELECT INBOX');
      const subject = (lines: string[]) => lines.map((line) => /"(Inbox|Other) [a-z]+"/.exec(line)?.[0]);
      const first = await ok(a, 'FETCH 1:2 (FLAGS ENVELOPE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.deepEqual(subject(first), ['"Inbox one"', '"Inbox two"']);
      // Another session changes flags and removes a message: the second FETCH shows the flags of now.
      await ok(b, 'SELECT INBOX');
      await ok(b, 'STORE 1 +FLAGS (\\Answered)');
      await ok(b, 'STORE 2 +FLAGS.SILENT (\\Deleted)');
      await ok(b, 'EXPUNGE');
      const second = await ok(a, 'FETCH 1 (FLAGS ENVELOPE RFC822.SIZE)');
      const fetched = second.find((line) => line.includes('ENVELOPE'))!;
      assert.match(fetched, /FLAGS \(\\Answered \\Recent\)/);
      assert.match(fetched, /"Inbox one"/);
      // No EXPUNGE during FETCH (RFC 9051 7.5.1): the next NOOP tells it.
      assert.ok(!second.some((line) => line.endsWith('EXPUNGE')), second.join('\n'));
      assert.ok((await ok(a, 'NOOP')).includes('* 2 EXPUNGE'));
      // The same UID in another mailbox is another message.
      await ok(a, 'SELECT Other');
      assert.deepEqual(subject(await ok(a, 'FETCH 1 (ENVELOPE)')), ['"Other one"']);
      const body = await ok(a, 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(body.join('\n'), /Subject: Other one/);
      // A fresh session of its own reads the same from the store.
      const c = await login(account.address);
      await ok(c, 'SELECT INBOX');
      await ok(a, 'SELECT INBOX');
      assert.deepEqual(
        (await ok(a, 'FETCH 1 (FLAGS ENVELOPE BODYSTRUCTURE)')).map((l) => l.replace(/ \\Recent/, '')),
        await ok(c, 'FETCH 1 (FLAGS ENVELOPE BODYSTRUCTURE)'),
      );
    });
  });

  describe('FETCH of a body kept in memory for every session of the process', () => {
    test('what the body cache answers is what another process reads from the store', async () => {
      const account = await stack.account('body-cache');
      // One body kept in PostgreSQL by its delivery, one by an APPEND (both small), one multipart.
      await stack.deliver(
        account.accountId,
        account.address,
        rawMessage('Delivered', ['Line one.', 'Line two.']),
      );
      const a = await login(account.address);
      const appended = rawMessage('Appended', ['Appended body.']);
      const tag = a.allocateTag();
      a.write(`${tag} APPEND INBOX {${Buffer.byteLength(appended)}+}\r\n${appended}\r\n`);
      assert.match((await a.collect(tag)).status, /^OK/);
      await ok(a, 'SELECT INBOX');
      const items =
        'BODY.PEEK[] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT] BODY.PEEK[TEXT]<3.7> BODY.PEEK[1] RFC822.SIZE';
      // Twice on this pod (the second from memory), once on another pod whose cache is empty.
      const first = await ok(a, `FETCH 1:2 (${items})`);
      const second = await ok(a, `FETCH 1:2 (${items})`);
      const other = await stack.gateway();
      const b = await login(account.address, other);
      await ok(b, 'SELECT INBOX');
      const fresh = await ok(b, `FETCH 1:2 (${items})`);
      assert.deepEqual(second, first);
      assert.deepEqual(first, fresh);
      assert.ok(fresh.join('\n').includes('Appended body.'), fresh.join('\n'));
      assert.ok(fresh.join('\n').includes('Line two.'), fresh.join('\n'));
      // BODY[] without PEEK from memory sets \Seen as a read from the store does.
      assert.match((await ok(a, 'FETCH 2 (BODY[])')).join('\n'), /\\Seen/);
      assert.match((await ok(b, 'FETCH 2 (FLAGS)')).join('\n'), /\\Seen/);
    });
  });

  describe('SELECT and APPEND by a name the session looked up before', () => {
    test('a mailbox renamed, created again or deleted on another pod is what a fresh session finds', async () => {
      const account = await stack.account('names');
      const a = await login(account.address);
      await ok(a, 'CREATE Work');
      // A looks both names up (kept by its session), then another pod changes them; A is not waited on.
      await ok(a, 'SELECT Work');
      await ok(a, 'SELECT INBOX');
      const append = async (client: LineClient, mailbox: string, subject: string) => {
        const message = rawMessage(subject);
        const tag = client.allocateTag();
        client.write(`${tag} APPEND ${mailbox} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
        return (await client.collect(tag)).status;
      };
      assert.match(await append(a, 'Work', 'Before'), /^OK/);
      const otherPod = await stack.gateway();
      const b = await login(account.address, otherPod);
      await ok(b, 'RENAME Work Play');
      await ok(b, 'CREATE Work');
      const mailboxId = (lines: string[]) => lines.find((line) => line.includes('[MAILBOXID'));
      const fresh = await ok(b, 'SELECT Work');
      assert.equal(mailboxId(await ok(a, 'SELECT Work')), mailboxId(fresh));
      await ok(a, 'SELECT INBOX');
      assert.match(await append(a, 'Work', 'After'), /^OK/);
      const status = async (mailbox: string) => (await ok(b, `STATUS ${mailbox} (MESSAGES)`)).join('\n');
      assert.match(await status('Work'), /MESSAGES 1\)/);
      assert.match(await status('Play'), /MESSAGES 1\)/);
      await ok(b, 'SELECT INBOX');
      await ok(b, 'DELETE Work');
      assert.match((await a.command('SELECT Work')).status, /^NO \[NONEXISTENT\]/);
      assert.match(await append(a, 'Work', 'Gone'), /^NO \[TRYCREATE\]/);
      assert.match((await ok(a, 'SELECT Play')).join('\n'), /\* 1 EXISTS/);
      await ok(a, 'SELECT INBOX');
      // A rename the session cannot have heard of (made in the store, no notification): the name is
      // checked where the mailbox is read or written.
      await stack.pool.query(`UPDATE mailboxes SET name = 'Shelf' WHERE account_id = $1 AND name = 'Play'`, [
        account.accountId,
      ]);
      assert.match((await a.command('SELECT Play')).status, /^NO \[NONEXISTENT\]/);
      assert.match(await append(a, 'Play', 'Renamed'), /^NO \[TRYCREATE\]/);
      assert.match((await ok(a, 'SELECT Shelf')).join('\n'), /\* 1 EXISTS/);
    });
  });

  describe('SEARCH on flags, UIDs and numbers from the view', () => {
    test('answers what the store answers, after changes by this session and another pod', async () => {
      const account = await stack.account('search-view');
      for (let i = 1; i <= 6; i++)
        await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
      const a = await login(account.address);
      await ok(a, 'ENABLE CONDSTORE');
      await ok(a, 'SELECT INBOX');
      const otherPod = await stack.gateway();
      const b = await login(account.address, otherPod);
      await ok(b, 'SELECT INBOX');
      // Changes of its own and of another pod's session, and a delivery the view has not read yet.
      await ok(a, 'STORE 1:2 +FLAGS (\\Seen)');
      await ok(a, 'STORE 3 +FLAGS (\\Flagged project)');
      await ok(b, 'STORE 4 +FLAGS (\\Deleted \\Seen)');
      await ok(b, 'STORE 2 -FLAGS (\\Seen)');
      await ok(b, 'STORE 5 +FLAGS (project)');
      await stack.deliver(account.accountId, account.address, rawMessage('Message 7'));
      const modseq = /HIGHESTMODSEQ (\d+)/.exec((await ok(b, 'STATUS INBOX (HIGHESTMODSEQ)')).join(''))![1]!;
      const criteria = [
        'UNSEEN',
        'SEEN',
        'FLAGGED UNDELETED',
        'NOT SEEN',
        'OR DELETED KEYWORD project',
        'UNKEYWORD project',
        '2:4',
        'UID 3:*',
        'NEW',
        'OLD',
        'RECENT',
        `MODSEQ ${Number(modseq) - 2}`,
        '(SEEN OR FLAGGED ANSWERED) NOT 1',
        'ALL',
      ];
      // SAVEDSINCE 1-Jan-1970 matches every message but only the store answers it (LARGER is answered
      // in memory since the message cache keeps sizes): the same criteria through SQL.
      // The first SEARCH catches the view up: the other pod's flags count, the delivery not yet (its
      // EXISTS comes after the result), as when the store answers.
      const result = (lines: string[]) => lines.filter((line) => line.startsWith('* SEARCH'));
      const first = await ok(a, 'SEARCH UNSEEN');
      assert.deepEqual(result(first), ['* SEARCH 2 3 5 6']);
      assert.ok(first.indexOf('* SEARCH 2 3 5 6') < first.indexOf('* 7 EXISTS'), first.join('\n'));
      for (const key of criteria) {
        const fromView = result(await ok(a, `SEARCH ${key}`));
        assert.deepEqual(fromView, result(await ok(a, `SEARCH ${key} SAVEDSINCE 1-Jan-1970`)), key);
        assert.deepEqual(
          result(await ok(a, `UID SEARCH ${key}`)),
          result(await ok(a, `UID SEARCH ${key} SAVEDSINCE 1-Jan-1970`)),
          key,
        );
      }
      // A fresh session on the other pod (its own \Recent aside) finds the same flagged messages.
      const c = await login(account.address, otherPod);
      await ok(c, 'EXAMINE INBOX');
      for (const key of ['UNSEEN', 'OR DELETED KEYWORD project', 'UID 3:*'])
        assert.deepEqual(result(await ok(c, `SEARCH ${key}`)), result(await ok(a, `SEARCH ${key}`)), key);
    });
  });
});
