import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createProvisioning } from '@correo/directory';
import type { AccountRef } from '@correo/directory';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { InProcessGateway } from './helpers/session-driver.js';
import { ImapTestStack } from './helpers/stack.js';

/**
 * METADATA and METADATA-SERVER (RFC 5464), with the RFC's own examples: server and mailbox entries,
 * /private and /shared, DEPTH and MAXSIZE, NIL deletes, the METADATA response codes, the per-account
 * limits, entries deleted with their mailbox and kept through RENAME, and no entry seen across tenants.
 */
describe('METADATA (RFC 5464)', () => {
  let gateway: InProcessGateway;

  before(async () => {
    gateway = await InProcessGateway.open({ metadataMaxEntries: 6, metadataMaxSize: 100 });
  });
  after(async () => {
    await gateway.close();
  });

  test('both capabilities are advertised after login', async () => {
    const c = await gateway.session(await gateway.account('caps'));
    const [line] = (await c.ok('CAPABILITY')).untagged;
    assert.match(line!, / METADATA /);
    assert.match(line!, / METADATA-SERVER/);
  });

  test('RFC 5464 4.2.1/4.3 examples: server and INBOX comments, literal values, NIL deletes', async () => {
    const c = await gateway.session(await gateway.account('examples'));
    // Example of 4.3: a value sent as a literal across two lines.
    let done = await c.command(
      'SETMETADATA INBOX (/private/comment {33+}\r\nMy new comment across\r\ntwo lines.)',
    );
    assert.equal(done.status, 'OK SETMETADATA completed');
    done = await c.command('GETMETADATA INBOX /private/comment');
    assert.ok(
      done.text.startsWith(
        '* METADATA INBOX (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)\r\n',
      ),
      done.text,
    );
    // Example of 4.2.1: a server entry, then several at once.
    await c.ok('SETMETADATA "" (/shared/comment "Shared comment")');
    await c.ok('SETMETADATA "" (/private/comment "My own comment")');
    assert.deepEqual((await c.ok('GETMETADATA "" /private/comment')).untagged, [
      '* METADATA "" (/private/comment "My own comment")',
    ]);
    assert.deepEqual((await c.ok('GETMETADATA "" (/shared/comment /private/comment)')).untagged, [
      '* METADATA "" (/private/comment "My own comment" /shared/comment "Shared comment")',
    ]);
    // Entry names are case-insensitive.
    assert.deepEqual((await c.ok('GETMETADATA "" /SHARED/Comment')).untagged, [
      '* METADATA "" (/shared/comment "Shared comment")',
    ]);
    // Example of 4.3: NIL removes; an entry without a value reads as NIL.
    await c.ok('SETMETADATA INBOX (/private/comment NIL)');
    assert.deepEqual((await c.ok('GETMETADATA INBOX /private/comment')).untagged, [
      '* METADATA INBOX (/private/comment NIL)',
    ]);
    // Server and mailbox entries of the same name are apart.
    assert.deepEqual((await c.ok('GETMETADATA "" /private/comment')).untagged, [
      '* METADATA "" (/private/comment "My own comment")',
    ]);
    done = await c.command('GETMETADATA Nowhere /private/comment');
    assert.match(done.status, /^NO \[NONEXISTENT\]/);
  });

  test('DEPTH 0, 1 and infinity; MAXSIZE leaves long values out with [METADATA LONGENTRIES n]', async () => {
    const c = await gateway.session(await gateway.account('depth'));
    await c.ok(
      'SETMETADATA INBOX (/private/filters/values/small "Small" /private/filters/values/big/deep "x" /private/filters/values "top")',
    );
    assert.deepEqual((await c.ok('GETMETADATA INBOX /private/filters/values')).untagged, [
      '* METADATA INBOX (/private/filters/values "top")',
    ]);
    // Example of 4.2.2: DEPTH 1 adds the immediate children.
    assert.deepEqual((await c.ok('GETMETADATA (DEPTH 1) INBOX /private/filters/values')).untagged, [
      '* METADATA INBOX (/private/filters/values "top" /private/filters/values/small "Small")',
    ]);
    assert.deepEqual((await c.ok('GETMETADATA (DEPTH infinity) INBOX /private')).untagged, [
      '* METADATA INBOX (/private/filters/values "top" /private/filters/values/big/deep "x" /private/filters/values/small "Small")',
    ]);
    // Example of 4.2.1: MAXSIZE.
    const done = await c.command('GETMETADATA (MAXSIZE 3 DEPTH infinity) INBOX /private/filters');
    assert.deepEqual(done.untagged, [
      '* METADATA INBOX (/private/filters NIL /private/filters/values "top" /private/filters/values/big/deep "x")',
    ]);
    assert.equal(done.status, 'OK [METADATA LONGENTRIES 5] GETMETADATA completed');
  });

  test('values with NUL come back as literal8; bad entry names are BAD', async () => {
    const c = await gateway.session(await gateway.account('binary'));
    await c.ok('SETMETADATA INBOX (/private/vendor/blob ~{3+}\r\na\0b)');
    const done = await c.command('GETMETADATA INBOX /private/vendor/blob');
    assert.equal(done.text.split('\r\n')[0], '* METADATA INBOX (/private/vendor/blob ~{3}');
    for (const entry of [
      '/private/a*',
      '/private/a%',
      '/other/x',
      '/private//x',
      '/private/x/',
      '/private',
    ]) {
      const refused = await c.command(`SETMETADATA INBOX ("${entry}" "v")`);
      assert.match(refused.status, /^BAD Invalid metadata entry name/, entry);
    }
    assert.match(
      (await c.command('GETMETADATA (DEPTH 2) INBOX /private')).status,
      /^BAD DEPTH is 0, 1 or infinity/,
    );
  });

  test('limits per account: [METADATA MAXSIZE n], [METADATA TOOMANY], all or nothing', async () => {
    const c = await gateway.session(await gateway.account('limits'));
    const big = 'x'.repeat(101);
    let done = await c.command(`SETMETADATA INBOX (/private/a "ok" /private/b "${big}")`);
    assert.equal(done.status, 'NO [METADATA MAXSIZE 100] A value is too large');
    assert.deepEqual((await c.ok('GETMETADATA INBOX /private/a')).untagged, [
      '* METADATA INBOX (/private/a NIL)',
    ]);
    await c.ok('SETMETADATA INBOX (/private/1 "1" /private/2 "2" /private/3 "3")');
    await c.ok('SETMETADATA "" (/private/4 "4" /shared/5 "5" /shared/6 "6")');
    done = await c.command('SETMETADATA Sent (/private/7 "7" /private/8 "8")');
    assert.equal(done.status, 'NO [METADATA TOOMANY] Too many annotations');
    assert.deepEqual((await c.ok('GETMETADATA Sent /private/7')).untagged, [
      '* METADATA Sent (/private/7 NIL)',
    ]);
    // Replacing one does not add one; deleting makes room.
    await c.ok('SETMETADATA INBOX (/private/1 "one")');
    await c.ok('SETMETADATA INBOX (/private/1 NIL)');
    await c.ok('SETMETADATA Sent (/private/7 "7")');
  });

  test('entries follow RENAME and go with DELETE; a new mailbox of the old name has none', async () => {
    const c = await gateway.session(await gateway.account('lifecycle'));
    await c.ok('CREATE Projects');
    await c.ok('SETMETADATA Projects (/shared/comment "work")');
    await c.ok('RENAME Projects Archive/Projects');
    assert.deepEqual((await c.ok('GETMETADATA Archive/Projects /shared/comment')).untagged, [
      '* METADATA Archive/Projects (/shared/comment "work")',
    ]);
    await c.ok('CREATE Projects');
    assert.deepEqual((await c.ok('GETMETADATA Projects /shared/comment')).untagged, [
      '* METADATA Projects (/shared/comment NIL)',
    ]);
    await c.ok('DELETE Archive/Projects');
    await c.ok('CREATE Archive/Projects');
    assert.deepEqual((await c.ok('GETMETADATA Archive/Projects /shared/comment')).untagged, [
      '* METADATA Archive/Projects (/shared/comment NIL)',
    ]);
    const { rows } = await gateway.services.pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM imap_metadata m JOIN accounts a ON a.id = m.account_id
        WHERE a.address = 'lifecycle@in-process.test'`,
    );
    assert.equal(rows[0]!.count, '0');
  });

  test('no entry is seen by another account, of this tenant or another', async () => {
    const operator = createProvisioning(gateway.services.pool);
    const tenant = await operator.createTenant({ name: 'other-tenant' });
    await operator.createDomain({ name: 'other.test', tenantId: tenant.id, verified: true });
    const created = await operator.createAccount({ address: 'same@other.test' });
    const stranger: AccountRef = {
      accountId: created.id,
      tenantId: created.tenantId,
      address: created.address,
    };
    const owner = await gateway.account('owner');
    const neighbour = await gateway.account('neighbour');
    assert.notEqual(stranger.tenantId, owner.tenantId);

    const a = await gateway.session(owner);
    await a.ok('SETMETADATA "" (/shared/comment "owner server" /private/comment "owner private")');
    await a.ok('SETMETADATA INBOX (/shared/comment "owner inbox")');
    for (const other of [await gateway.session(stranger), await gateway.session(neighbour)]) {
      assert.deepEqual((await other.ok('GETMETADATA (DEPTH infinity) "" (/shared /private)')).untagged, []);
      assert.deepEqual((await other.ok('GETMETADATA (DEPTH infinity) INBOX /shared')).untagged, []);
      // Writing the same names on the other side changes nothing of the owner's.
      await other.ok('SETMETADATA "" (/shared/comment "mine")');
      await other.ok('SETMETADATA INBOX (/shared/comment "mine")');
    }
    assert.deepEqual((await a.ok('GETMETADATA "" /shared/comment')).untagged, [
      '* METADATA "" (/shared/comment "owner server")',
    ]);
    assert.deepEqual((await a.ok('GETMETADATA INBOX /shared/comment')).untagged, [
      '* METADATA INBOX (/shared/comment "owner inbox")',
    ]);
  });
});

describe('METADATA over a socket', () => {
  let stack: ImapTestStack;
  let pod: ImapGateway;
  before(async () => {
    stack = await ImapTestStack.create('embedded');
    pod = await stack.gateway();
  });
  after(async () => stack.close());

  test('a raw transcript: literal value, GETMETADATA, unknown mailbox', async () => {
    const account = await stack.account('raw');
    const client = await LineClient.imapLogin(pod.ports.imap, account.address, stack.password);
    try {
      let done = await client.command('SETMETADATA INBOX (/private/comment {5+}\r\nhello)');
      assert.equal(done.status, 'OK SETMETADATA completed');
      done = await client.command('GETMETADATA INBOX /private/comment');
      assert.deepEqual(done.untagged, ['* METADATA INBOX (/private/comment "hello")']);
      done = await client.command('GETMETADATA "Not there" /private/comment');
      assert.match(done.status, /^NO \[NONEXISTENT\]/);
    } finally {
      client.destroy();
    }
  });
});
