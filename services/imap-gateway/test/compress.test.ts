import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { runProgram } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

const script = fileURLToPath(new URL('./clients/imaplib_compress.py', import.meta.url));

/** A body that deflate shrinks a lot: the client counts the octets on the wire and after inflating. */
const LONG_BODY = Array.from({ length: 2000 }, (_, i) => `Line ${i % 10} of a long and repetitive report.`);

/**
 * COMPRESS=DEFLATE (RFC 4978) through the line server's stream layer: Python's zlib on imaplib (which
 * has no COMPRESS of its own) over a plaintext login, after STARTTLS and over implicit TLS, and
 * imapflow, which turns COMPRESS on by itself when the server offers it.
 */
describe('COMPRESS=DEFLATE', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let dir: string;
  let ca: string;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    dir = await mkdtemp(join(tmpdir(), 'imap-compress-'));
    ca = join(dir, 'ca.pem');
    await writeFile(ca, stack.tls.cert);
    account = await stack.account('deflate');
    await stack.deliver(account.accountId, account.address, rawMessage('Long report', LONG_BODY));
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['plain', 'starttls', 'tls'] as const) {
    test(`imaplib with zlib: ${mode}`, async () => {
      const port = mode === 'tls' ? gateway.ports.imaps : gateway.ports.imap;
      const result = await runProgram('python3', [
        script,
        mode,
        String(port),
        account.address,
        stack.password,
        ca,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const seen = JSON.parse(result.stdout) as Record<string, unknown>;
      // Offered after login only (RFC 4978 3), then on, then refused a second time.
      assert.ok(!(seen.capabilities_before_login as string[]).includes('COMPRESS=DEFLATE'));
      assert.equal(seen.compress, 'OK');
      assert.ok((seen.capabilities as string[]).includes('COMPRESS=DEFLATE'));
      assert.ok((seen.exists as number) >= 1);
      assert.match(
        seen.body as string,
        /Subject: Long report\r\n[\s\S]*Line 9 of a long and repetitive report\./,
      );
      // The FETCH came over the wire deflated: far fewer octets than it holds.
      assert.ok(
        (seen.wire_in as number) * 5 < (seen.plain_in as number),
        `${seen.wire_in} vs ${seen.plain_in}`,
      );
      assert.equal(seen.again, 'NO');
      assert.match(seen.again_text as string, /^\[COMPRESSIONACTIVE\]/);
      // A literal the client deflated arrives whole.
      assert.equal(seen.append, 'OK');
      assert.notEqual(seen.search, '');
      assert.equal(seen.logout, 'BYE');
    });
  }

  test('imapflow negotiates COMPRESS by itself and works through it', async () => {
    const trace: { compress?: boolean; msg?: string }[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {},
      trace: (entry: { compress?: boolean; msg?: string }) => trace.push(entry),
    };
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: gateway.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: account.address, pass: stack.password },
      logger,
      logRaw: true,
    });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        const message = await imap.fetchOne('1', { source: true, envelope: true });
        assert.ok(message);
        assert.equal(message.envelope?.subject, 'Long report');
        assert.match(message.source!.toString(), /Line 9 of a long and repetitive report\./);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
    assert.ok(trace.some((entry) => entry.msg === 'write to socket' && entry.compress === true));
  });
});
