import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

describe('folders, LIST-EXTENDED, STATUS, QUOTA and CONDSTORE (embedded backends)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let account: { accountId: string; address: string };
  let client: LineClient;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    account = await stack.account('folders');
    await stack.deliver(account.accountId, account.address, rawMessage('One'));
    await stack.deliver(account.accountId, account.address, rawMessage('Two'));
    await stack.pool.query('UPDATE accounts SET quota_bytes = 10485760 WHERE id = $1', [account.accountId]);
    client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
  });
  after(async () => {
    client.destroy();
    await stack.close();
  });

  test('CREATE with parents, RENAME with children, DELETE, and the codes of what cannot be done', async () => {
    assert.match((await client.command('CREATE Projects/2026/Q1')).status, /^OK/);
    assert.match((await client.command('CREATE Projects')).status, /^NO \[ALREADYEXISTS\]/);
    assert.match((await client.command('CREATE inbox')).status, /^NO \[ALREADYEXISTS\]/);
    assert.match((await client.command('CREATE "bad//name"')).status, /^NO \[CANNOT\]/);
    const listed = await client.command('LIST "" "Projects*"');
    assert.deepEqual(listed.untagged, [
      '* LIST (\\HasChildren) "/" Projects',
      '* LIST (\\HasChildren) "/" Projects/2026',
      '* LIST (\\HasNoChildren) "/" Projects/2026/Q1',
    ]);
    assert.deepEqual((await client.command('LIST "" "Projects/%"')).untagged, [
      '* LIST (\\HasChildren) "/" Projects/2026',
    ]);
    assert.match((await client.command('RENAME Projects Work')).status, /^OK/);
    assert.deepEqual((await client.command('LIST "" "Work/*"')).untagged, [
      '* LIST (\\HasChildren) "/" Work/2026',
      '* LIST (\\HasNoChildren) "/" Work/2026/Q1',
    ]);
    assert.match((await client.command('DELETE Work')).status, /^NO \[HASCHILDREN\]/);
    assert.match((await client.command('DELETE Work/2026/Q1')).status, /^OK/);
    assert.match((await client.command('DELETE Nothing')).status, /^NO \[NONEXISTENT\]/);
    assert.match((await client.command('SELECT Nothing')).status, /^NO \[NONEXISTENT\]/);
    assert.match((await client.command('SUBSCRIBE Work/2026')).status, /^OK/);
    const lsub = await client.command('LSUB "" "W*"');
    assert.deepEqual(lsub.untagged, ['* LSUB () "/" Work/2026']);
  });

  test('LIST-EXTENDED: SPECIAL-USE selection, SUBSCRIBED with RECURSIVEMATCH, RETURN STATUS', async () => {
    const special = await client.command('LIST (SPECIAL-USE) "" "*"');
    assert.deepEqual(special.untagged.map((line) => line.split('"/" ')[1]).sort(), [
      'Archive',
      'Drafts',
      'Junk',
      'Sent',
      'Trash',
    ]);
    // Folders of this test's own: an unsubscribed parent with a subscribed child.
    assert.match((await client.command('CREATE Plans/2027')).status, /^OK/);
    assert.match((await client.command('SUBSCRIBE Plans/2027')).status, /^OK/);
    const subscribed = await client.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Pl%"');
    assert.deepEqual(subscribed.untagged, ['* LIST (\\HasChildren) "/" Plans ("CHILDINFO" ("SUBSCRIBED"))']);
    const status = await client.command('LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN SIZE))');
    assert.equal(status.untagged[0], '* LIST (\\HasNoChildren) "/" INBOX');
    assert.match(status.untagged[1]!, /^\* STATUS INBOX \(MESSAGES 2 UNSEEN 2 SIZE \d+\)$/);
    assert.deepEqual((await client.command('LIST "" ""')).untagged, ['* LIST (\\Noselect) "/" ""']);
  });

  test('LIST-EXTENDED subscriptions: RFC 5258 example 9, RETURN (CHILDREN SUBSCRIBED), LSUB % (RFC 3501 6.3.9)', async () => {
    const other = await stack.account('subscriptions');
    const subscriber = await LineClient.imapLogin(gateway.ports.imap, other.address, stack.password);
    try {
      // RFC 5258 section 5 example 9's tree. CREATE makes the parents and subscribes nothing (as
      // Dovecot): a client that never subscribed must not see \\Subscribed.
      const names = [
        'foo2/bar1',
        'foo2/bar2',
        'baz2/bar2',
        'baz2/bar22',
        'baz2/bar222',
        'eps2/mamba',
        'qux2/bar2',
      ];
      for (const name of names) assert.match((await subscriber.command(`CREATE ${name}`)).status, /^OK/);
      assert.deepEqual((await subscriber.command('LIST "" "eps2*" RETURN (CHILDREN SUBSCRIBED)')).untagged, [
        '* LIST (\\HasChildren) "/" eps2',
        '* LIST (\\HasNoChildren) "/" eps2/mamba',
      ]);
      assert.deepEqual((await subscriber.command('LSUB "" "*2*"')).untagged, []);
      for (const name of [...names, 'eps2']) {
        assert.match((await subscriber.command(`SUBSCRIBE ${name}`)).status, /^OK/);
      }
      // A parent is listed for CHILDINFO only when a subscribed descendant is not listed itself (it does
      // not match "*2"): foo2 (foo2/bar1) and eps2 (eps2/mamba, eps2 itself subscribed), not baz2 or qux2.
      assert.deepEqual((await subscriber.command('LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"')).untagged, [
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar22',
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar222',
        '* LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" qux2/bar2',
      ]);
      assert.deepEqual(
        (await subscriber.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%2" RETURN (CHILDREN)')).untagged,
        [
          '* LIST (\\HasChildren) "/" baz2 ("CHILDINFO" ("SUBSCRIBED"))',
          '* LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))',
          '* LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))',
          '* LIST (\\HasChildren) "/" qux2 ("CHILDINFO" ("SUBSCRIBED"))',
        ],
      );
      // Without RECURSIVEMATCH only the subscribed names, and no CHILDINFO.
      assert.deepEqual((await subscriber.command('LIST (SUBSCRIBED) "" "%2"')).untagged, [
        '* LIST (\\HasChildren \\Subscribed) "/" eps2',
      ]);
      // The SUBSCRIBED return option marks exactly the subscribed names.
      assert.deepEqual((await subscriber.command('LIST "" "*2*" RETURN (CHILDREN SUBSCRIBED)')).untagged, [
        '* LIST (\\HasChildren) "/" baz2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar22',
        '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar222',
        '* LIST (\\HasChildren \\Subscribed) "/" eps2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" eps2/mamba',
        '* LIST (\\HasChildren) "/" foo2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar1',
        '* LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar2',
        '* LIST (\\HasChildren) "/" qux2',
        '* LIST (\\HasNoChildren \\Subscribed) "/" qux2/bar2',
      ]);
      // RFC 3501 6.3.9: "%" returns the unsubscribed parent of a subscribed child as \Noselect, not the child.
      assert.deepEqual((await subscriber.command('LSUB "" "%2"')).untagged, [
        '* LSUB (\\Noselect) "/" baz2',
        '* LSUB () "/" eps2',
        '* LSUB (\\Noselect) "/" foo2',
        '* LSUB (\\Noselect) "/" qux2',
      ]);
      assert.deepEqual((await subscriber.command('LSUB "" "foo2/%"')).untagged, [
        '* LSUB () "/" foo2/bar1',
        '* LSUB () "/" foo2/bar2',
      ]);
    } finally {
      subscriber.destroy();
    }
  });

  test('international names: modified UTF-7 on the wire, UTF-8 in the store and under UTF8=ACCEPT', async () => {
    assert.match((await client.command('CREATE "Entw&APw-rfe"')).status, /^OK/);
    assert.ok(
      await stack.pool.query(`SELECT 1 FROM mailboxes WHERE name = 'Entwürfe'`).then((r) => r.rowCount === 1),
    );
    assert.deepEqual((await client.command('LIST "" "Entw*"')).untagged, [
      '* LIST (\\HasNoChildren) "/" Entw&APw-rfe',
    ]);
    const utf8 = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      await utf8.command('ENABLE UTF8=ACCEPT');
      const listed = await utf8.command('LIST "" "Entw*"');
      assert.equal(
        Buffer.from(listed.untagged[0]!, 'latin1').toString('utf8'),
        '* LIST (\\HasNoChildren) "/" "Entwürfe"',
      );
    } finally {
      utf8.destroy();
    }
  });

  test('GETQUOTAROOT and GETQUOTA report the account storage in KiB', async () => {
    const root = await client.command('GETQUOTAROOT INBOX');
    assert.equal(root.untagged[0], '* QUOTAROOT INBOX ""');
    assert.match(root.untagged[1]!, /^\* QUOTA "" \(STORAGE 1 10240\)$/);
    assert.match((await client.command('GETQUOTA "nope"')).status, /^NO \[NONEXISTENT\]/);
  });

  test('CONDSTORE: MODSEQ rises, CHANGEDSINCE filters, UNCHANGEDSINCE refuses stale changes', async () => {
    const selected = await client.command('SELECT INBOX (CONDSTORE)');
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.untagged.join('\n'))![1]);
    const stored = await client.command('STORE 1 +FLAGS (\\Answered)');
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(stored.untagged[0]!)![1]);
    assert.ok(modseq > highest);
    const changed = await client.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
    assert.deepEqual(changed.untagged, [`* 1 FETCH (FLAGS (\\Answered \\Recent) MODSEQ (${modseq}))`]);
    const refused = await client.command(`STORE 1,2 (UNCHANGEDSINCE ${highest}) +FLAGS (\\Flagged)`);
    assert.match(refused.status, /^OK \[MODIFIED 1\]/);
    assert.equal(refused.untagged.length, 1);
    assert.match(refused.untagged[0]!, /^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/);
    const search = await client.command(`SEARCH MODSEQ ${modseq}`);
    assert.match(search.untagged[0]!, /^\* SEARCH 1 2 \(MODSEQ \d+\)$/);
    assert.match((await client.command('UNSELECT')).status, /^OK/);
  });

  test('AUTHENTICATE PLAIN with SASL-IR and with a continuation; EXAMINE is read-only', async () => {
    const plain = Buffer.from(`\0${account.address}\0${stack.password}`).toString('base64');
    const ir = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await ir.readLine();
      assert.match((await ir.command(`AUTHENTICATE PLAIN ${plain}`)).status, /^OK \[CAPABILITY/);
      const examined = await ir.command('EXAMINE INBOX');
      assert.match(examined.status, /^OK \[READ-ONLY\]/);
      assert.match((await ir.command('STORE 1 +FLAGS (\\Seen)')).status, /^NO \[READ-ONLY\]/);
      await ir.command('FETCH 1 BODY[]');
      const flags = await ir.command('FETCH 1 FLAGS');
      assert.doesNotMatch(flags.untagged[0]!, /\\Seen/);
    } finally {
      ir.destroy();
    }
    const continued = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await continued.readLine();
      const tag = continued.allocateTag();
      continued.write(`${tag} AUTHENTICATE PLAIN\r\n`);
      assert.equal(await continued.readLine(), '+ ');
      continued.write(`${plain}\r\n`);
      assert.match((await continued.collect(tag)).status, /^OK/);
    } finally {
      continued.destroy();
    }
  });
});
