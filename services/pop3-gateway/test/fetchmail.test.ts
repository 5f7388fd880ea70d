import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pop3Gateway } from '../src/index.js';
import { runProgram } from '@correo/testkit';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

const MESSAGES = 500;

describe('fetchmail downloads and deletes a 500-message mailbox over STLS (MinIO, Redis)', () => {
  let stack: Pop3TestStack;
  let gateway: Pop3Gateway;
  let home: string;

  before(async () => {
    stack = await Pop3TestStack.create('distributed');
    gateway = await stack.startGateway({ allowPlaintextAuthOnLoopback: false });
    home = await mkdtemp(join(tmpdir(), 'pop3-fetchmail-'));
  });
  after(async () => {
    await stack.close();
    await rm(home, { recursive: true, force: true });
  });

  test('first run fetches every message into the MDA and deletes them; the second fetches nothing', async () => {
    const { accountId, address } = await stack.account('fetcher');
    const sent = new Set<string>();
    for (let i = 0; i < MESSAGES; i++) {
      const text = rawMessage(`message ${i}`, [`body of ${i}`, '.', '..leading dots', 'end']);
      sent.add(text);
      await stack.deliver(accountId, address, text);
    }
    const before = await stack.inbox(accountId);

    const inbox = join(home, 'delivered');
    await mkdir(inbox);
    const mda = join(home, 'mda.sh');
    // One file per message, as a maildir-like MDA would: fetchmail pipes each message to the command.
    await writeFile(mda, `#!/bin/sh\nexec cat > "${inbox}/$(date +%s%N)-$$"\n`);
    await chmod(mda, 0o755);
    const ca = join(home, 'ca.pem');
    await writeFile(ca, stack.tls.cert);
    const rc = join(home, 'fetchmailrc');
    await writeFile(
      rc,
      [
        'set no syslog',
        `poll localhost via 127.0.0.1 protocol pop3 port ${gateway.ports.pop3}`,
        `  user "${address}" there with password "${stack.password}" is root here`,
        `  sslproto 'TLS1.2+' sslcertck sslcertfile "${ca}" sslcommonname localhost`,
        '  no keep fetchall',
        `  mda "${mda}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const env = { ...process.env, HOME: home, FETCHMAILHOME: home };

    const first = await runProgram('fetchmail', ['-f', rc, '--nodetach'], { env, timeoutMs: 240_000 });
    assert.equal(first.code, 0, `fetchmail exit ${first.code}: ${first.stderr}`);
    const files = await readdir(inbox);
    assert.equal(files.length, MESSAGES);
    const received = new Set<string>();
    for (const file of files) {
      // fetchmail adds its own Received header on top; the message as stored follows it.
      const content = (await readFile(join(inbox, file), 'latin1')).replace(/\r?\n/g, '\r\n');
      const start = content.indexOf('From: Sender');
      received.add(content.slice(start));
    }
    assert.deepEqual(received, sent);

    assert.deepEqual(await stack.uids(accountId), []);
    const after = await stack.inbox(accountId);
    assert.equal(after.highestmodseq, before.highestmodseq + 1);
    const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM expunged WHERE mailbox_id = $1', [
      after.id,
    ]);
    assert.equal(rows[0].n, MESSAGES);

    const second = await runProgram('fetchmail', ['-f', rc, '--nodetach'], { env, timeoutMs: 60_000 });
    // Exit status 1 is fetchmail's "no mail".
    assert.equal(second.code, 1, `${second.stdout}${second.stderr}`);
    assert.equal((await readdir(inbox)).length, MESSAGES);
  });
});
