import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { LineEndingGuard, LineTooLongError } from '../src/line-endings.js';
import {
  HeaderBlockRewriter,
  HeaderTooLargeError,
  missingSubmissionHeaders,
  rewriteHeaderBlock,
} from '../src/header-block.js';

async function through(stream: NodeJS.ReadWriteStream, chunks: string[]): Promise<string> {
  const parts: Buffer[] = [];
  const output = Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(stream as never) as Readable;
  for await (const part of output) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

/** The reference: every CRLF, bare CR or bare LF is one CRLF. */
const canonical = (text: string) => text.replace(/\r\n|\r|\n/g, '\r\n');

describe('LineEndingGuard', () => {
  test('bare LF and bare CR become CRLF; CRLF stays; chunk boundaries do not matter', async () => {
    assert.equal(
      await through(new LineEndingGuard(998), ['a\nb\rc\r\nd\r', '\ne\r', 'f\r']),
      'a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[ab\r\n.]{0,12}$/), { maxLength: 8 }), async (chunks) => {
        assert.equal(await through(new LineEndingGuard(998), chunks), canonical(chunks.join('')));
      }),
    );
  });

  test('a line over the limit fails the stream, whichever chunk it spans', async () => {
    await assert.rejects(through(new LineEndingGuard(10), ['12345', '678901\r\n']), LineTooLongError);
    assert.equal(
      await through(new LineEndingGuard(10), ['12345', '67890\r\n', '1234567890\n']),
      '1234567890\r\n1234567890\r\n',
    );
  });
});

describe('HeaderBlockRewriter', () => {
  const rewriter = (max = 1024) =>
    new HeaderBlockRewriter({
      prepend: 'Received: x\r\n',
      complete: (header) => missingSubmissionHeaders(header, 'id@host', 'Thu, 1 Jan 2026 00:00:00 +0000'),
      maxHeaderBytes: max,
    });

  test('adds Message-ID and Date at the end of the header block only when missing', async () => {
    assert.equal(
      await through(rewriter(), ['Subject: a\r\n', '\r\nbody\r\n\r\nMessage-ID: not a header\r\n']),
      'Received: x\r\nSubject: a\r\nMessage-ID: <id@host>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n\r\nMessage-ID: not a header\r\n',
    );
    assert.equal(
      await through(rewriter(), ['message-id: <a@b>\r\nDATE: x\r\n\r\nbody\r\n']),
      'Received: x\r\nmessage-id: <a@b>\r\nDATE: x\r\n\r\nbody\r\n',
    );
    assert.equal(
      await through(rewriter(), ['\r\nno headers\r\n']),
      'Received: x\r\nMessage-ID: <id@host>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nno headers\r\n',
    );
    assert.equal(
      await through(rewriter(), ['Subject: only headers']),
      'Received: x\r\nSubject: only headers\r\nMessage-ID: <id@host>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n',
    );
  });

  test('a header block larger than the limit fails the stream', async () => {
    await assert.rejects(
      through(rewriter(64), ['X: ' + 'y'.repeat(40) + '\r\n', 'Z: ' + 'y'.repeat(40) + '\r\n\r\n']),
      HeaderTooLargeError,
    );
  });
});

describe('rewriteHeaderBlock (a message held whole, the MX spool)', () => {
  const options = (max = 1024) => ({
    prepend: 'Received: x\r\nAuthentication-Results: y\r\n',
    complete: (header: string) =>
      missingSubmissionHeaders(header, 'id@host', 'Thu, 1 Jan 2026 00:00:00 +0000'),
    rewrite: (header: string) => header.replace(/^X-Forged: [^\r]*\r\n/gim, ''),
    maxHeaderBytes: max,
  });

  test('gives the same bytes as HeaderBlockRewriter streaming them, for any message and chunking', async () => {
    for (const message of [
      'Subject: a\r\nX-Forged: 1\r\n\r\nbody\r\n\r\nMessage-ID: not a header\r\n',
      '\r\nno headers\r\n',
      'Subject: only headers',
      'Subject: only headers\r\n',
      '',
    ]) {
      const streamed = await through(new HeaderBlockRewriter(options()), [message]);
      assert.equal(
        rewriteHeaderBlock(Buffer.from(message, 'latin1'), options()).toString('latin1'),
        streamed,
        message,
      );
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[ab:X\r\n-]{0,12}$/), { maxLength: 8 }),
        async (chunks) => {
          const message = canonical(chunks.join(''));
          const streamed = await through(new HeaderBlockRewriter(options()), [message]);
          assert.equal(
            rewriteHeaderBlock(Buffer.from(message, 'latin1'), options()).toString('latin1'),
            streamed,
          );
        },
      ),
    );
  });

  test('a header block larger than the limit is refused, with or without a body', () => {
    const header = 'X: ' + 'y'.repeat(40) + '\r\nZ: ' + 'y'.repeat(40) + '\r\n';
    assert.throws(
      () => rewriteHeaderBlock(Buffer.from(header + '\r\nbody'), options(64)),
      HeaderTooLargeError,
    );
    assert.throws(() => rewriteHeaderBlock(Buffer.from(header), options(64)), HeaderTooLargeError);
  });
});
