import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

// The STARTTLS command-injection attack (RFC 9051 6.2.1; CVE-2011-0411 and kin): commands sent in
// plaintext right behind STARTTLS, in the same packet, must not run inside the TLS session, where
// they would pass for commands of the client that did the handshake.
describe('STARTTLS drops what was pipelined behind it', () => {
  let stack: ImapTestStack;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    account = await stack.account('starttls');
  });
  after(async () => {
    await stack.close();
  });

  test('a LOGIN and a SELECT pipelined behind STARTTLS are never answered nor run', async () => {
    const gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: true });
    const plain = await LineClient.connect(gateway.ports.imap, { literals: true });
    await plain.readLine();
    plain.write(`s1 STARTTLS\r\ns2 LOGIN "${account.address}" "${stack.password}"\r\ns3 SELECT INBOX\r\n`);
    assert.match((await plain.collect('s1')).status, /^OK/);
    const secured = await plain.startTls(stack.tls.cert);
    try {
      // Not logged in: the injected LOGIN did not run. And no reply to s2 or s3 ever comes.
      const select = await secured.command('SELECT INBOX');
      assert.match(select.status, /^BAD|^NO/);
      assert.ok(!select.untagged.some((line) => /^s[23] /.test(line)), select.untagged.join('\n'));
      const capability = await secured.command('CAPABILITY');
      assert.match(capability.untagged.join('\n'), /AUTH=PLAIN/, 'still before login');
      assert.match((await secured.command(`LOGIN "${account.address}" "${stack.password}"`)).status, /^OK/);
    } finally {
      secured.destroy();
    }
  });
});
