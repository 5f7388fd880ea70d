import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

const script = fileURLToPath(new URL('./clients/imaplib_client.py', import.meta.url));

for (const kind of STACK_KINDS) {
  describe(`Python imaplib against the gateway (${kind})`, () => {
    let stack: ImapTestStack;
    let dir: string;

    before(async () => {
      stack = await ImapTestStack.create(kind);
      dir = await mkdtemp(join(tmpdir(), 'imaplib-'));
    });
    after(async () => {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('STARTTLS, login, select, search, fetch, store, copy, expunge, append', async () => {
      const gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: false });
      const { accountId, address } = await stack.account('py');
      await stack.deliver(accountId, address, rawMessage('Your invoice', ['Pay now.']));
      await stack.deliver(accountId, address, rawMessage('Lunch?', ['At noon.']));
      await stack.deliver(accountId, address, rawMessage('Another invoice', ['Pay later.']));
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, stack.tls.cert);

      const result = await runProgram('python3', [
        script,
        String(gateway.ports.imap),
        address,
        stack.password,
        ca,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const seen = JSON.parse(result.stdout) as Record<string, unknown>;
      assert.ok((seen.capabilities_before as string[]).includes('LOGINDISABLED'));
      assert.equal(seen.login, 'OK');
      assert.equal(seen.exists, 3);
      assert.deepEqual(seen.search_invoice, ['1', '3']);
      assert.deepEqual(seen.uids, ['1', '2', '3']);
      assert.match(seen.rfc822 as string, /Subject: Your invoice\r\n[\s\S]*Pay now\./);
      assert.match(seen.flags_after_fetch as string, /\\Seen/);
      assert.match(seen.store as string, /\\Flagged/);
      assert.equal(seen.copy, 'OK');
      assert.deepEqual(seen.expunged, ['1']);
      assert.match(seen.append as string, /APPENDUID \d+ 4/);
      assert.match(seen.status as string, /MESSAGES 3 UIDNEXT 5/);
      assert.ok((seen.list as string[]).some((line) => line === '(\\HasNoChildren \\Archive) "/" Archive'));
      assert.deepEqual(await stack.uids(accountId), [2, 3, 4]);
      assert.deepEqual(await stack.uids(accountId, 'Archive'), [1]);
    });
  });
}
