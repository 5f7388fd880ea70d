import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ImapGateway } from '../src/index.js';
import { LineClient, runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

const imaplibScript = fileURLToPath(new URL('./clients/imaplib_searchres.py', import.meta.url));

/** UID 1 is expunged before the tests, so message numbers 1-5 are UIDs 2-6: "alpha" is 1, 3, 5 / 2, 4, 6. */
const SUBJECTS = ['gone', 'alpha two', 'beta three', 'alpha four', 'beta five', 'alpha six'];

/** `* n FETCH (...)` lines as "n: ..." for short asserts. */
function fetched(untagged: string[]): string[] {
  return untagged.flatMap((line) => {
    const match = /^\* (\d+) FETCH \((.*)\)$/.exec(line);
    return match ? [`${match[1]}: ${match[2]}`] : [];
  });
}

describe('SEARCHRES: SEARCH RETURN (SAVE) and "$" (RFC 5182, RFC 9051 6.4.4.1)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
  });
  after(async () => {
    await stack.close();
  });

  /** A fresh account with SUBJECTS delivered, INBOX selected and UID 1 expunged. */
  async function selectedInbox(
    localPart: string,
  ): Promise<{ client: LineClient; accountId: string; address: string }> {
    const { accountId, address } = await stack.account(localPart);
    for (const subject of SUBJECTS) await stack.deliver(accountId, address, rawMessage(subject));
    const client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    assert.match((await client.command('SELECT INBOX')).status, /^OK/);
    assert.match((await client.command('UID STORE 1 +FLAGS.SILENT (\\Deleted)')).status, /^OK/);
    assert.deepEqual((await client.command('EXPUNGE')).untagged, ['* 1 EXPUNGE']);
    return { client, accountId, address };
  }

  test('SEARCHRES is advertised once logged in', async () => {
    const { address } = await stack.account('caps');
    const client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    try {
      const caps = await client.command('CAPABILITY');
      assert.match(caps.untagged[0]!, /^\* CAPABILITY .* ESEARCH SEARCHRES /);
    } finally {
      client.destroy();
    }
  });

  test('SAVE alone answers only OK; "$" then works in FETCH, STORE and SEARCH, by number and by UID', async () => {
    const { client } = await selectedInbox('saved');
    try {
      const saved = await client.command('SEARCH RETURN (SAVE) SUBJECT alpha');
      assert.deepEqual(saved.untagged, []);
      assert.match(saved.status, /^OK /);

      const flags = await client.command('FETCH $ (FLAGS)');
      assert.deepEqual(fetched(flags.untagged), ['1: FLAGS ()', '3: FLAGS ()', '5: FLAGS ()']);
      const uids = await client.command('UID FETCH $ (FLAGS)');
      assert.deepEqual(fetched(uids.untagged), [
        '1: UID 2 FLAGS ()',
        '3: UID 4 FLAGS ()',
        '5: UID 6 FLAGS ()',
      ]);

      const stored = await client.command('UID STORE $ +FLAGS (\\Flagged)');
      assert.match(stored.status, /^OK /);
      assert.deepEqual(fetched(stored.untagged), [
        '1: UID 2 FLAGS (\\Flagged)',
        '3: UID 4 FLAGS (\\Flagged)',
        '5: UID 6 FLAGS (\\Flagged)',
      ]);
      assert.deepEqual((await client.command('SEARCH FLAGGED')).untagged, ['* SEARCH 1 3 5']);
      const unflag = await client.command('STORE $ -FLAGS.SILENT (\\Flagged)');
      assert.deepEqual(unflag.untagged, []);
      assert.deepEqual((await client.command('SEARCH FLAGGED')).untagged, ['* SEARCH']);

      // "$" as a search key, alone, as a UID set, and narrowed by other keys.
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH 1 3 5']);
      assert.deepEqual((await client.command('UID SEARCH UID $')).untagged, ['* SEARCH 2 4 6']);
      assert.deepEqual((await client.command('SEARCH NOT $')).untagged, ['* SEARCH 2 4']);
      assert.deepEqual((await client.command('UID SEARCH $ SUBJECT six')).untagged, ['* SEARCH 6']);

      // A SEARCH that fails to parse is BAD and leaves "$" as it was.
      const broken = await client.command('SEARCH RETURN (SAVE) FROBNICATE');
      assert.match(broken.status, /^BAD /);
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH 1 3 5']);

      // A SEARCH that saves replaces it, "$" in its own criteria still meaning the old result.
      await client.command('UID SEARCH RETURN (SAVE) $ SUBJECT four');
      assert.deepEqual(fetched((await client.command('FETCH $ (UID)')).untagged), ['3: UID 4']);

      // Nothing found saves the empty set: commands on it do nothing and succeed.
      await client.command('SEARCH RETURN (SAVE) SUBJECT nowhere');
      const none = await client.command('FETCH $ (FLAGS)');
      assert.deepEqual(none.untagged, []);
      assert.match(none.status, /^OK /);
      const storeNone = await client.command('STORE $ +FLAGS (\\Seen)');
      assert.deepEqual(storeNone.untagged, []);
      assert.match(storeNone.status, /^OK /);
    } finally {
      client.destroy();
    }
  });

  test('a FETCH $ pipelined right behind its SEARCH (SAVE) sees that search result (RFC 5182 2.3)', async () => {
    const { client } = await selectedInbox('pipelined');
    try {
      const search = client.allocateTag();
      const fetch = client.allocateTag();
      client.write(`${search} SEARCH RETURN (SAVE) SUBJECT beta\r\n${fetch} UID FETCH $ (UID)\r\n`);
      assert.match((await client.collect(search)).status, /^OK /);
      const answer = await client.collect(fetch);
      assert.deepEqual(fetched(answer.untagged), ['2: UID 3', '4: UID 5']);
    } finally {
      client.destroy();
    }
  });

  test('SAVE with MIN and/or MAX saves only those; with ALL or COUNT, everything found', async () => {
    const { client } = await selectedInbox('minmax');
    try {
      const min = await client.command('UID SEARCH RETURN (SAVE MIN) SUBJECT alpha');
      assert.match(min.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) UID MIN 2$/);
      assert.deepEqual(fetched((await client.command('UID FETCH $ (UID)')).untagged), ['1: UID 2']);

      const max = await client.command('SEARCH RETURN (MAX SAVE) SUBJECT alpha');
      assert.match(max.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) MAX 5$/);
      assert.deepEqual(fetched((await client.command('FETCH $ (UID)')).untagged), ['5: UID 6']);

      await client.command('SEARCH RETURN (SAVE MIN MAX) SUBJECT alpha');
      assert.deepEqual(fetched((await client.command('FETCH $ (UID)')).untagged), ['1: UID 2', '5: UID 6']);

      const counted = await client.command('SEARCH RETURN (SAVE MIN COUNT) SUBJECT alpha');
      assert.match(counted.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) MIN 1 COUNT 3$/);
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH 1 3 5']);

      const all = await client.command('UID SEARCH RETURN (SAVE ALL) SUBJECT beta');
      assert.match(all.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) UID ALL 3,5$/);
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH 2 4']);

      // MIN of nothing saves nothing.
      await client.command('SEARCH RETURN (SAVE MIN) SUBJECT nowhere');
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH']);
    } finally {
      client.destroy();
    }
  });

  test('expunged messages drop out of "$": own EXPUNGE, UID EXPUNGE $ and another session expunging', async () => {
    const { client, address } = await selectedInbox('expunge');
    const other = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    try {
      await client.command('SEARCH RETURN (SAVE) SUBJECT alpha');
      await client.command('STORE 3 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await client.command('EXPUNGE')).untagged, ['* 3 EXPUNGE']);
      assert.deepEqual(fetched((await client.command('FETCH $ (UID)')).untagged), ['1: UID 2', '4: UID 6']);

      // UID EXPUNGE $ removes only the \Deleted messages in "$".
      await client.command('STORE 1:* +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await client.command('UID EXPUNGE $')).untagged, ['* 4 EXPUNGE', '* 1 EXPUNGE']);
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH']);
      await client.command('STORE 1:* -FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await client.command('UID SEARCH ALL')).untagged, ['* SEARCH 3 5']);

      // Another session expunges a saved message: once told, "$" no longer holds it.
      await client.command('UID SEARCH RETURN (SAVE) ALL');
      assert.match((await other.command('SELECT INBOX')).status, /^OK/);
      await other.command('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await other.command('EXPUNGE')).untagged, ['* 1 EXPUNGE']);
      const noop = await client.command('NOOP');
      assert.ok(noop.untagged.includes('* 1 EXPUNGE'), noop.untagged.join('\n'));
      assert.deepEqual(fetched((await client.command('UID FETCH $ (UID)')).untagged), ['1: UID 5']);
    } finally {
      client.destroy();
      other.destroy();
    }
  });

  test('"$" is empty after SELECT, EXAMINE, CLOSE and UNSELECT', async () => {
    const { client, accountId, address } = await selectedInbox('reset');
    await stack.deliver(accountId, address, rawMessage('alpha archived'), 'Archive');
    try {
      await client.command('SEARCH RETURN (SAVE) ALL');
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH 1 2 3 4 5']);
      assert.match((await client.command('SELECT Archive')).status, /^OK/);
      assert.deepEqual((await client.command('FETCH $ (UID)')).untagged, []);
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH']);
      const copy = await client.command('UID COPY $ INBOX');
      assert.match(copy.status, /^OK /);
      assert.deepEqual(await stack.uids(accountId), [2, 3, 4, 5, 6]);

      for (const [leave, reopen] of [
        ['UNSELECT', 'SELECT INBOX'],
        ['CLOSE', 'EXAMINE INBOX'],
      ]) {
        await client.command('SEARCH RETURN (SAVE) ALL');
        assert.match((await client.command(leave!)).status, /^OK/);
        assert.match((await client.command(reopen!)).status, /^OK/);
        assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH'], `after ${leave}`);
      }
      // Selecting the same mailbox again resets it too.
      await client.command('SEARCH RETURN (SAVE) ALL');
      await client.command('EXAMINE INBOX');
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH']);
    } finally {
      client.destroy();
    }
  });

  test('UID COPY $ and MOVE $ act on the saved messages', async () => {
    const { client, accountId } = await selectedInbox('copy');
    try {
      await client.command('SEARCH RETURN (SAVE) SUBJECT alpha');
      const copy = await client.command('UID COPY $ Archive');
      assert.match(copy.status, /^OK \[COPYUID \d+ 2,4,6 1:3\] UID COPY completed/);
      assert.deepEqual(await stack.uids(accountId, 'Archive'), [1, 2, 3]);

      await client.command('UID SEARCH RETURN (SAVE MAX) SUBJECT beta');
      const move = await client.command('MOVE $ Trash');
      assert.match(move.status, /^OK /);
      assert.ok(move.untagged.includes('* 4 EXPUNGE'), move.untagged.join('\n'));
      assert.deepEqual(await stack.uids(accountId, 'Trash'), [1]);
      assert.deepEqual(await stack.uids(accountId), [2, 3, 4, 6]);
      // The moved message was expunged here, so "$" is now empty.
      assert.deepEqual((await client.command('SEARCH $')).untagged, ['* SEARCH']);
    } finally {
      client.destroy();
    }
  });

  test('Python imaplib: SAVE, FETCH $, UID STORE $, SAVE MIN, EXPUNGE, SELECT, UID COPY $', async () => {
    const { accountId, address } = await stack.account('py');
    for (const subject of SUBJECTS) await stack.deliver(accountId, address, rawMessage(subject));
    const result = await runProgram('python3', [
      imaplibScript,
      String(gateway.ports.imap),
      address,
      stack.password,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(seen.searchres_advertised, true);
    assert.deepEqual(seen.save, { typ: 'OK', esearch: [] });
    assert.deepEqual(seen.fetch_saved, ['2 (FLAGS ())', '4 (FLAGS ())', '6 (FLAGS ())']);
    assert.deepEqual(seen.store_saved, [
      '2 (UID 2 FLAGS (\\Flagged))',
      '4 (UID 4 FLAGS (\\Flagged))',
      '6 (UID 6 FLAGS (\\Flagged))',
    ]);
    assert.deepEqual(seen.flagged, ['2', '4', '6']);
    assert.match(seen.save_min as string, /^\(TAG "\w+"\) UID MIN 1$/);
    assert.deepEqual(seen.fetch_min, ['1 (UID 1)']);
    assert.deepEqual(seen.expunged, ['1']);
    assert.deepEqual(seen.fetch_after_expunge, []);
    assert.deepEqual(seen.fetch_all_saved, ['1 (UID 2)', '3 (UID 4)', '5 (UID 6)']);
    assert.match(seen.copy as string, /^OK \[COPYUID \d+ 2,4,6 1:3\]/);
    assert.deepEqual(seen.fetch_other_mailbox, []);
    assert.deepEqual(await stack.uids(accountId, 'Archive'), [1, 2, 3]);
  });
});
