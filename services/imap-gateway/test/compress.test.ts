import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { ImapFlow } from 'imapflow';
import { Arrivals, DEFAULT_READ_TIMEOUT_MS, LineClient, runProgram } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

const script = fileURLToPath(new URL('./clients/imaplib_compress.py', import.meta.url));

/** A body that deflate shrinks a lot: the client counts the octets on the wire and after inflating. */
const LONG_BODY = Array.from({ length: 2000 }, (_, i) => `Line ${i % 10} of a long and repetitive report.`);

/** A raw client that logs in, sends COMPRESS DEFLATE and then speaks through Node's zlib. */
class DeflatingClient {
  private text = '';
  private readonly arrivals = new Arrivals();
  private readonly deflate = createDeflateRaw();

  private constructor(private readonly socket: Socket) {}

  static async open(port: number, user: string, password: string): Promise<DeflatingClient> {
    const socket = connect({ port, host: '127.0.0.1' });
    const client = new DeflatingClient(socket);
    socket.on('data', (chunk: Buffer) => client.received(chunk.toString('latin1')));
    socket.on('close', () => client.ended());
    socket.on('error', () => {});
    await client.until(/^\* OK /m);
    socket.write(`a LOGIN "${user}" "${password}"\r\n`);
    await client.until(/^a OK /m);
    socket.write('b COMPRESS DEFLATE\r\n');
    await client.until(/^b OK /m);
    socket.removeAllListeners('data');
    const inflate = createInflateRaw();
    socket.pipe(inflate);
    inflate.on('data', (chunk: Buffer) => client.received(chunk.toString('latin1')));
    inflate.on('error', () => client.ended());
    client.deflate.pipe(socket);
    client.text = '';
    return client;
  }

  private received(text: string): void {
    this.text += text;
    this.arrivals.wake();
  }

  private ended(): void {
    this.arrivals.end();
  }

  /** Resolves once what the server sent matches; fails if the connection ends first or nothing comes in time. */
  until(pattern: RegExp): Promise<string> {
    return this.arrivals.until(
      String(pattern),
      () => pattern.exec(this.text)?.[0],
      DEFAULT_READ_TIMEOUT_MS,
      () => JSON.stringify(this.text.slice(-300)),
    );
  }

  /** Deflated and flushed, as RFC 4978 asks of a client. */
  send(data: string | Buffer): void {
    this.deflate.write(data);
    this.deflate.flush(constants.Z_SYNC_FLUSH);
  }

  /** Octets that are not a deflate stream. */
  sendRaw(data: Buffer): void {
    this.socket.write(data);
  }

  /** Resolves once the server closed the connection; fails if it stays open past the read timeout. */
  async waitClosed(): Promise<void> {
    await this.arrivals.until(
      'close of the connection',
      () => (this.arrivals.ended ? true : undefined),
      DEFAULT_READ_TIMEOUT_MS,
      () => JSON.stringify(this.text.slice(-300)),
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}

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

  test('a deflated 64 MiB line is refused like a plain one, and the session goes on', async () => {
    const client = await DeflatingClient.open(gateway.ports.imap, account.address, stack.password);
    try {
      client.send('c NOOP\r\n');
      await client.until(/^c OK /m);
      // 64 MiB of one letter deflate to some 64 KiB: the line limit still holds after inflating.
      const block = Buffer.alloc(1024 * 1024, 0x41);
      client.send('d ');
      for (let i = 0; i < 64; i++) client.send(block);
      client.send('\r\ne NOOP\r\n');
      await client.until(/^(\* |d )BAD .*[Ll]ine is longer than/m);
      await client.until(/^e OK /m);
    } finally {
      client.destroy();
    }
  });

  test('octets that are not deflate end that connection only', async () => {
    const client = await DeflatingClient.open(gateway.ports.imap, account.address, stack.password);
    client.sendRaw(Buffer.from('f NOOP\r\n'));
    await client.waitClosed();
    // The gateway serves others as before.
    const other = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      assert.match((await other.command('NOOP')).status, /^OK/);
    } finally {
      other.destroy();
    }
  });
});
