import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listenerPort, runProgram, startReadyService } from '@correo/testkit';
import type { ServiceProcess } from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

const script = fileURLToPath(new URL('./clients/imaplib_client.py', import.meta.url));

// What the Helm chart runs: src/main.ts as a process of its own, configured only by environment
// (the chart's), on the shared PostgreSQL, MinIO and Redis, used by Python's imaplib. A main.ts that
// wired a wrong adapter, section or listener would fail here, where in-process gateways cannot tell.

describe('imap-gateway src/main.ts as the chart runs it (PostgreSQL, MinIO, Redis)', () => {
  let stack: ImapTestStack;
  let service: ServiceProcess | undefined;

  before(async () => {
    stack = await ImapTestStack.create('distributed', { blobsAtRoot: true });
  });
  after(async () => {
    await service?.process.stop('SIGKILL');
    await stack.close();
  });

  test('imaplib logs in over STARTTLS, reads what the store holds, appends into MinIO; SIGTERM exits 0', async () => {
    const { accountId, address } = await stack.account('main');
    await stack.deliver(accountId, address, rawMessage('Your invoice', ['Pay now.']));
    await stack.deliver(accountId, address, rawMessage('Lunch?', ['At noon.']));
    await stack.deliver(accountId, address, rawMessage('Another invoice', ['Pay later.']));
    // The certificate the process loads from its data dir (as from the chart's volume), made here
    // first so the client can trust it.
    const dataDir = join(stack.dir, 'imap-main');
    await loadTlsMaterial({ dataDir, hostname: 'localhost' });
    service = await startReadyService('imap-gateway', {
      ...stack.env(),
      CORREO_DATA_DIR: dataDir,
      IMAP_HOSTNAME: 'localhost',
      IMAP_BIND_HOST: '127.0.0.1',
      IMAP_PORT: '0',
      IMAPS_PORT: '0',
      // Every APPEND body to the blob store, so the test shows main.ts wires the bucket (small
      // bodies would otherwise be kept in message_bodies).
      IMAP_DATABASE_BODY_BYTES: '0',
    });
    const port = listenerPort(service.listeners['IMAP (STARTTLS)']!);

    const result = await runProgram('python3', [
      script,
      String(port),
      address,
      stack.password,
      join(dataDir, 'tls', 'cert.pem'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.ok((seen.capabilities_before as string[]).includes('LOGINDISABLED'), 'the chart default');
    assert.equal(seen.login, 'OK');
    assert.equal(seen.exists, 3);
    assert.deepEqual(seen.search_invoice, ['1', '3']);
    assert.match(seen.rfc822 as string, /Subject: Your invoice\r\n[\s\S]*Pay now\./);
    assert.deepEqual(seen.expunged, ['1']);
    assert.match(seen.append as string, /APPENDUID \d+ 4/);
    assert.match(seen.status as string, /MESSAGES 3 UIDNEXT 5/);
    assert.deepEqual(await stack.uids(accountId), [2, 3, 4]);
    assert.deepEqual(await stack.uids(accountId, 'Archive'), [1]);
    // The appended message went to the bucket the stack reads.
    const { rows } = await stack.pool.query<{ blob_key: string }>(
      `SELECT m.blob_key FROM mailbox_messages mm
         JOIN mailboxes mb ON mb.id = mm.mailbox_id JOIN messages m ON m.id = mm.message_id
       WHERE mb.account_id = $1 AND mb.name = 'INBOX' AND mm.uid = 4`,
      [accountId],
    );
    assert.match((await stack.blobBytes(rows[0]!.blob_key)).toString(), /appended by python/);

    assert.deepEqual(await service.process.stop('SIGTERM'), { code: 0, signal: null });
  });
});
