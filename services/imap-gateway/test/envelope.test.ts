import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

const GROUPS = [
  'Date: Sat, 01 Feb 2007 01:02:03 +0200',
  'From: user@domain (Real Name)',
  'Sender: <@route:user@domain>',
  'To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;',
  'Cc: undisclosed-recipients:;',
  'Bcc: postmaster',
  '',
  'body',
  '',
].join('\r\n');

describe('FETCH ENVELOPE: groups and addresses without a domain (RFC 3501 7.4.2)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;
  let accountId: string;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const account = await stack.account('envelope');
    accountId = account.accountId;
    await stack.deliver(account.accountId, account.address, GROUPS);
    client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    await client.command('SELECT INBOX');
  });
  after(async () => {
    client?.destroy();
    await stack.close();
  });

  const expected =
    '* 1 FETCH (ENVELOPE ("Sat, 01 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) ' +
    '((NIL "@route" "user" "domain")) (("Real Name" NIL "user" "domain")) ' +
    '((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)' +
    '(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ' +
    '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ((NIL NIL "postmaster" "")) NIL NIL))';

  test('group start, members, group end; an empty group; "" for a missing domain', async () => {
    const done = await client.command('FETCH 1 ENVELOPE');
    assert.match(done.status, /^OK /);
    assert.deepEqual(done.untagged, [expected]);
  });

  test('an envelope stored with the old placeholders is sent the same way', async () => {
    await stack.pool.query(
      `UPDATE messages SET envelope_json = jsonb_set(envelope_json, '{bcc}',
         '[[null, null, "postmaster", "MISSING_DOMAIN"]]') WHERE account_id = $1`,
      [accountId],
    );
    const done = await client.command('FETCH 1 ENVELOPE');
    assert.deepEqual(done.untagged, [expected]);
  });

  // Each damage is an SQL assignment to one stored row. The version-2 row was served as sound before
  // the stored shape had an owner; the others crashed the serializer, now they are refused by name.
  for (const [damage, item] of [
    [`envelope_json = '{"subject": "only a subject"}'`, 'ENVELOPE'],
    [`bodystructure_json = bodystructure_json || '{"version": 2}'`, 'BODYSTRUCTURE'],
    [`bodystructure_json = '{"kind": "text"}'`, 'BODY'],
    [`bodystructure_json = jsonb_set(bodystructure_json, '{offsets,bodyStart}', '"5"')`, 'BODY[TEXT]'],
  ] as const) {
    test(`${item} after ${damage}: NO [SERVERBUG], nothing sent for it, the session goes on`, async () => {
      const fresh = await stack.deliver(accountId, `envelope@${stack.domainName}`, GROUPS);
      await stack.pool.query(
        `UPDATE messages m SET ${damage} FROM mailbox_messages mm
         WHERE mm.message_id = m.id AND mm.mailbox_id = $1 AND mm.uid = $2`,
        [fresh.mailboxId, fresh.uid],
      );
      await client.command('NOOP');
      const done = await client.command(`UID FETCH ${fresh.uid} (UID ${item})`);
      assert.deepEqual(done.untagged, []);
      assert.match(done.status, /^NO \[SERVERBUG\] /);
      assert.match((await client.command('NOOP')).status, /^OK /);
      assert.deepEqual((await client.command('FETCH 1 UID')).untagged, ['* 1 FETCH (UID 1)']);
    });
  }
});
