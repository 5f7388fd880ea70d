import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack } from './helpers/stack.js';

/** Octets 0..255 twice: NUL and every 8-bit value, which only literal8 may carry. */
const OCTETS = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
/** Past the size up to which a part is decoded in memory: streamed through the decoder. */
const BIG = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));

function base64Lines(data: Buffer): string[] {
  return data.toString('base64').match(/.{1,76}/g)!;
}

const MESSAGE = [
  'From: Ana <ana@remote.test>',
  'To: someone@example.test',
  'Subject: Binary parts',
  'Date: Thu, 26 Nov 2026 06:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=C3=BC=C3=9Fe, a soft=',
  ' break.',
  '--b',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  ...base64Lines(OCTETS),
  '--b',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: x-uuencode',
  '',
  'begin 644 x',
  '--b',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  ...base64Lines(BIG),
  '--b--',
  '',
].join('\r\n');

/** The octets of the literal (plain or literal8) that follows `item` in a FETCH line. */
function literalAfter(line: string, item: string): { binary: boolean; data: Buffer } {
  const at = line.indexOf(`${item} `);
  assert.ok(at >= 0, `${item} missing in ${line.slice(0, 200)}`);
  const header = /^(~?)\{(\d+)\}\r\n/.exec(line.slice(at + item.length + 1));
  assert.ok(header, `no literal after ${item}: ${line.slice(at, at + 80)}`);
  const start = at + item.length + 1 + header[0].length;
  return {
    binary: header[1] === '~',
    data: Buffer.from(line.slice(start, start + Number(header[2])), 'latin1'),
  };
}

/**
 * BINARY (RFC 3516): BINARY[part] and BINARY.PEEK[part] send the part with its transfer encoding
 * undone (literal8 when it holds NUL), BINARY.SIZE its decoded size, partial ranges count decoded
 * octets, an unknown encoding is NO [UNKNOWN-CTE], and APPEND takes a literal8.
 */
describe('BINARY', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;
  let address: string;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const account = await stack.account('binary');
    const accountId = account.accountId;
    address = account.address;
    await stack.deliver(accountId, address, MESSAGE);
    client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    assert.match((await client.command('SELECT INBOX')).status, /^OK/);
  });
  after(async () => {
    client.destroy();
    await stack.close();
  });

  test('decoded parts, their sizes and ranges; PEEK leaves \\Seen alone', async () => {
    assert.match((await client.command('CAPABILITY')).untagged[0]!, / BINARY( |$)/);
    assert.deepEqual(await client.commandOk('FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[4])'), [
      `* 1 FETCH (BINARY.SIZE[1] ${Buffer.byteLength('Grüße, a soft break.')} BINARY.SIZE[2] 512 BINARY.SIZE[4] ${BIG.length})`,
    ]);
    const [line] = await client.commandOk('FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2])');
    const text = literalAfter(line!, 'BINARY[1]');
    assert.equal(text.binary, false);
    assert.equal(text.data.toString('utf8'), 'Grüße, a soft break.');
    const octets = literalAfter(line!, 'BINARY[2]');
    assert.equal(octets.binary, true);
    assert.deepEqual(octets.data, OCTETS);
    assert.deepEqual(await client.commandOk('FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS (\\Recent))']);

    // Ranges count decoded octets: <origin> is echoed as in BODY[] (RFC 3516 4.2).
    const [range] = await client.commandOk('FETCH 1 (BINARY.PEEK[2]<255.3>)');
    const piece = literalAfter(range!, 'BINARY[2]<255>');
    assert.deepEqual(piece.data, Buffer.from([255, 0, 1]));

    // A big part is streamed, decoded on the way out.
    const [big] = await client.commandOk('FETCH 1 (BINARY.PEEK[4])');
    const streamed = literalAfter(big!, 'BINARY[4]');
    assert.equal(streamed.binary, true);
    assert.deepEqual(streamed.data, BIG);
    const [bigRange] = await client.commandOk('FETCH 1 (BINARY.PEEK[4]<100000.5>)');
    assert.deepEqual(literalAfter(bigRange!, 'BINARY[4]<100000>').data, BIG.subarray(100_000, 100_005));

    // Without PEEK, \Seen is set (as BODY[] does).
    const [seen] = await client.commandOk('FETCH 1 (BINARY[1])');
    assert.match(seen!, /FLAGS \(\\Seen \\Recent\)/);
  });

  test('an encoding the server cannot undo: NO [UNKNOWN-CTE], nothing of that FETCH is sent', async () => {
    const done = await client.command('FETCH 1 (BINARY.PEEK[3])');
    assert.match(done.status, /^NO \[UNKNOWN-CTE\] /);
    assert.deepEqual(done.untagged, []);
    const size = await client.command('FETCH 1 (BINARY.SIZE[3])');
    assert.match(size.status, /^NO \[UNKNOWN-CTE\] /);
  });

  test('APPEND with a literal8 (~{n}) holding NUL, read back with BINARY.PEEK[] and BINARY.SIZE[]', async () => {
    const message = Buffer.concat([
      Buffer.from('Subject: with NUL\r\nContent-Transfer-Encoding: binary\r\n\r\nbefore '),
      Buffer.from([0, 1, 2, 0]),
      Buffer.from(' after\r\n'),
    ]);
    client.write(`a1 APPEND INBOX ~{${message.length}+}\r\n`);
    client.write(Buffer.concat([message, Buffer.from('\r\n')]));
    let line = await client.readLine();
    while (line.startsWith('*')) line = await client.readLine();
    assert.match(line, /^a1 OK \[APPENDUID \d+ 2\] /);
    await client.commandOk('NOOP');
    const [back] = await client.commandOk('UID FETCH 2 (BINARY.PEEK[] BINARY.SIZE[])');
    const whole = literalAfter(back!, 'BINARY[]');
    assert.equal(whole.binary, true);
    assert.deepEqual(whole.data, message);
    assert.match(back!, new RegExp(`BINARY.SIZE\\[\\] ${message.length}`));
    const [body] = await client.commandOk('UID FETCH 2 (BINARY.PEEK[1])');
    assert.deepEqual(literalAfter(body!, 'BINARY[1]').data, message.subarray(message.indexOf('before')));
  });

  test('imapflow fetches a part with BINARY, and EMAILID and THREADID with it', async () => {
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: gateway.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: address, pass: stack.password },
      logger: false,
    });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        const message = await imap.fetchOne(
          '1',
          { uid: true, bodyParts: ['2'], threadId: true },
          { binary: true },
        );
        assert.ok(message);
        assert.deepEqual(message.bodyParts?.get('2'), OCTETS);
        // It came decoded by the server (FETCH BINARY), not decoded by imapflow.
        assert.ok((message as { binaryParts?: Set<string> }).binaryParts?.has('2'));
        assert.match(message.emailId ?? '', /^M[0-9]+$/);
        assert.match(message.threadId ?? '', /^T[0-9]+$/);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  });
});
