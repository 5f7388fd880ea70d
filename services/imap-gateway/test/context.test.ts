import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InProcessGateway } from './helpers/session-driver.js';
import { rawMessage } from './helpers/stack.js';

/**
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267): a SEARCH or SORT with RETURN (UPDATE) is kept updated
 * while the mailbox changes (another session's deliveries and flags, the session's own STORE), as
 * ESEARCH ADDTO / REMOVEFROM with the command's tag; CANCELUPDATE ends it; beyond the limit the client
 * is told NO [NOUPDATE].
 */
describe('CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267)', () => {
  let gateway: InProcessGateway;

  before(async () => {
    gateway = await InProcessGateway.open();
  });
  after(async () => {
    await gateway.close();
  });

  test('both are advertised', async () => {
    const a = await gateway.session(await gateway.account('caps'));
    const { untagged } = await a.ok('CAPABILITY');
    assert.match(untagged[0]!, / CONTEXT=SEARCH CONTEXT=SORT/);
  });

  test('UID SEARCH RETURN (UPDATE): ADDTO and REMOVEFROM (position 0) as others change the mailbox', async () => {
    const account = await gateway.account('search');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await b.append('INBOX', rawMessage('one'), '\\Flagged');
    await b.append('INBOX', rawMessage('two'));
    await b.append('INBOX', rawMessage('three'), '\\Flagged');
    await a.ok('SELECT INBOX');
    const search = await a.ok('UID SEARCH RETURN (UPDATE ALL) FLAGGED');
    assert.deepEqual(search.untagged, [`* ESEARCH (TAG "${search.tag}") UID ALL 1,3`]);

    await b.append('INBOX', rawMessage('four'), '\\Flagged');
    await b.ok('SELECT INBOX');
    const flagged = await gateway.changeSeen(account, 'flags');
    await b.ok('UID STORE 1 -FLAGS (\\Flagged)');
    await flagged();
    // A learns of both changes at its next command, after the EXISTS and FETCH they follow.
    const noop = await a.ok('NOOP');
    const update = noop.untagged.filter((l) => l.startsWith('* ESEARCH'));
    assert.deepEqual(update, [`* ESEARCH (TAG "${search.tag}") UID REMOVEFROM (0 1) ADDTO (0 4)`]);
    assert.ok(
      noop.untagged.indexOf('* 4 EXISTS') < noop.untagged.indexOf(update[0]!),
      noop.untagged.join('\n'),
    );

    // The session's own STORE is told in the STORE's own response.
    const store = await a.ok('UID STORE 2 +FLAGS.SILENT (\\Flagged)');
    assert.deepEqual(store.untagged, [`* ESEARCH (TAG "${search.tag}") UID ADDTO (0 2)`]);

    // An expunged message leaves the result through EXPUNGE alone.
    await a.ok('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    const expunge = await a.ok('EXPUNGE');
    assert.deepEqual(expunge.untagged, ['* 3 EXPUNGE']);

    assert.equal((await a.command(`CANCELUPDATE "${search.tag}"`)).status, 'OK CANCELUPDATE completed');
    assert.deepEqual((await a.ok('UID STORE 1 +FLAGS.SILENT (\\Flagged)')).untagged, []);
    assert.match((await a.command(`CANCELUPDATE "${search.tag}"`)).status, /^BAD No result kept updated/);
  });

  test('SORT RETURN (UPDATE): positions in sort order, message numbers without UID', async () => {
    const account = await gateway.account('sort');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await b.append('INBOX', rawMessage('bravo'));
    await b.append('INBOX', rawMessage('delta'));
    await a.ok('SELECT INBOX');
    const sort = await a.ok('SORT RETURN (UPDATE) (SUBJECT) UTF-8 UNSEEN');
    assert.deepEqual(sort.untagged, [`* ESEARCH (TAG "${sort.tag}") ALL 1:2`]);
    await b.append('INBOX', rawMessage('charlie'));
    await b.append('INBOX', rawMessage('alpha'));
    await b.ok('SELECT INBOX');
    const read = await gateway.changeSeen(account, 'flags');
    await b.ok('STORE 2 +FLAGS (\\Seen)');
    await read();
    const update = (await a.ok('NOOP')).untagged.filter((l) => l.startsWith('* ESEARCH'));
    // Before: bravo(1) delta(2). delta read: REMOVEFROM (2 2). Then alpha(4) at 1, charlie(3) at 3.
    assert.deepEqual(update, [`* ESEARCH (TAG "${sort.tag}") REMOVEFROM (2 2) ADDTO (1 4 3 3)`]);
  });

  test('RETURN (CONTEXT) is a hint only; too many contexts get NO [NOUPDATE]', async () => {
    const a = await gateway.session(await gateway.account('limit'));
    await a.ok('SELECT INBOX');
    assert.equal((await a.ok('SEARCH RETURN (CONTEXT COUNT) ALL')).untagged.length, 1);
    for (let i = 0; i < 5; i++) await a.ok('SEARCH RETURN (UPDATE COUNT) ALL');
    const refused = await a.ok('SEARCH RETURN (UPDATE COUNT) ALL');
    assert.equal(refused.untagged[0], `* NO [NOUPDATE "${refused.tag}"] At most 5 results are kept updated`);
    assert.equal(refused.untagged[1], `* ESEARCH (TAG "${refused.tag}") COUNT 0`);
  });

  test('RETURN (PARTIAL low:high): a page of the sorted or searched result; not kept updated', async () => {
    const account = await gateway.account('partial');
    const a = await gateway.session(account);
    for (const subject of ['e', 'c', 'a', 'd', 'b']) await a.append('INBOX', rawMessage(subject));
    await a.ok('SELECT INBOX');
    let done = await a.ok('UID SORT RETURN (PARTIAL 2:4) (SUBJECT) UTF-8 ALL');
    assert.deepEqual(done.untagged, [`* ESEARCH (TAG "${done.tag}") UID PARTIAL (2:4 5,2,4)`]);
    done = await a.ok('SORT RETURN (PARTIAL 5:9 COUNT) (REVERSE SUBJECT) UTF-8 ALL');
    assert.deepEqual(done.untagged, [`* ESEARCH (TAG "${done.tag}") COUNT 5 PARTIAL (5:9 3)`]);
    done = await a.ok('SEARCH RETURN (PARTIAL 6:7) ALL');
    assert.deepEqual(done.untagged, [`* ESEARCH (TAG "${done.tag}") PARTIAL (6:7 NIL)`]);
    done = await a.ok('SEARCH RETURN (UPDATE PARTIAL 1:2) ALL');
    assert.deepEqual(done.untagged, [
      `* NO [NOUPDATE "${done.tag}"] A PARTIAL result is not kept updated`,
      `* ESEARCH (TAG "${done.tag}") PARTIAL (1:2 1:2)`,
    ]);
    // SAVE with PARTIAL keeps the page for "$".
    await a.ok('UID SEARCH RETURN (SAVE PARTIAL 2:3) ALL');
    assert.deepEqual((await a.ok('UID FETCH $ UID')).untagged, ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
  });
});
