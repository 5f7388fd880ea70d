import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

describe('curl imap:// and imaps://', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let dir: string;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: false });
    account = await stack.account('curl');
    await stack.deliver(
      account.accountId,
      account.address,
      rawMessage('Quarterly invoice', ['Total: 42 EUR']),
    );
    await stack.deliver(account.accountId, account.address, rawMessage('Hello', ['Just saying hi.']));
    dir = await mkdtemp(join(tmpdir(), 'curl-imap-'));
    await writeFile(join(dir, 'ca.pem'), stack.tls.cert);
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  function curl(url: string, port: number, extra: string[] = []) {
    return runProgram('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      join(dir, 'ca.pem'),
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '--user',
      `${account.address}:${stack.password}`,
      ...extra,
      url,
    ]);
  }

  test('lists the folders over STARTTLS', async () => {
    const port = gateway.ports.imap;
    const result = await curl(`imap://localhost:${port}/`, port, ['--ssl-reqd']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split(/\r?\n/);
    for (const name of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) {
      assert.ok(
        lines.some((line) => line.endsWith(`"/" ${name}`)),
        `${name} in ${result.stdout}`,
      );
    }
    assert.ok(lines.some((line) => line.includes('\\Sent')));
  });

  test('fetches a message by UID, and searches, over implicit TLS', async () => {
    const port = gateway.ports.imaps;
    const fetched = await curl(`imaps://localhost:${port}/INBOX;UID=1`, port);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.stdout, /Subject: Quarterly invoice\r\n[\s\S]*Total: 42 EUR/);
    const searched = await curl(`imaps://localhost:${port}/INBOX?SUBJECT%20hello`, port);
    assert.equal(searched.code, 0, searched.stderr);
    assert.equal(searched.stdout.trim(), '* SEARCH 2');
  });

  test('refuses a plaintext login without TLS', async () => {
    const port = gateway.ports.imap;
    const result = await curl(`imap://localhost:${port}/`, port);
    assert.notEqual(result.code, 0);
  });
});
