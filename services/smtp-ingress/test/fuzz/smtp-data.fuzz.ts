import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { withoutForgedAuthenticationResults } from '../../src/authentication-results.js';
import {
  HeaderBlockRewriter,
  HeaderTooLargeError,
  missingSubmissionHeaders,
} from '../../src/header-block.js';
import { LineEndingGuard, LineTooLongError } from '../../src/line-endings.js';

const HOSTNAME = 'mx.local.test';
const MAX_LINE = 998;
const MAX_HEADER = 4096;
const RECEIVED = `Received: from client by ${HOSTNAME}\r\n`;

/** The DATA path after smtp-server: line ends and line length, then the header block rewrite. */
async function intake(input: Buffer, chunkSize: number): Promise<Buffer | 'refused'> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += chunkSize) {
    chunks.push(input.subarray(offset, offset + chunkSize));
  }
  const out: Buffer[] = [];
  try {
    await pipeline(
      Readable.from(chunks),
      new LineEndingGuard(MAX_LINE),
      new HeaderBlockRewriter({
        prepend: RECEIVED,
        complete: (header) =>
          missingSubmissionHeaders(header, `id@${HOSTNAME}`, 'Fri, 4 Dec 2026 10:00:00 +0000'),
        rewrite: (header) => withoutForgedAuthenticationResults(header, HOSTNAME),
        maxHeaderBytes: MAX_HEADER,
      }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
  } catch (error) {
    // The two documented refusals (500 5.5.2 and 552 5.3.4 on the wire).
    if (error instanceof LineTooLongError || error instanceof HeaderTooLargeError) return 'refused';
    throw error;
  }
  return Buffer.concat(out);
}

/**
 * smtp-ingress's own DATA handling (smtp-server already ended DATA and undid dot-stuffing): a message
 * either is refused with one of the two documented errors or comes out with only CRLF line ends, our
 * Received first, no Authentication-Results claiming our authserv-id, Message-ID and Date present.
 */
export default fuzzTarget({
  coverage: ['/smtp-ingress/src/'],
  maxInputBytes: 16 * 1024,
  dictionary: [
    '\r\n\r\n',
    '\r\n.\r\n',
    '\n.\n',
    '\r.\r',
    'Authentication-Results: mx.local.test; spf=pass\r\n',
    'Authentication-Results: (c) MX.LOCAL.TEST;\r\n',
    'Authentication-Results: other.test; dkim=pass\r\n',
    '\r\n\t',
    'Message-ID: <a@b>\r\n',
    'Date: x\r\n',
    'Subject: ',
    'From: ',
    ':',
  ],
  async run(input) {
    const whole = await intake(input, input.length || 1);
    const split = await intake(input, 3);
    assert.deepEqual(split, whole, 'the same message however the DATA stream is chunked');
    if (whole === 'refused') return;
    const text = whole.toString('latin1');
    assert.ok(text.startsWith(RECEIVED), 'our Received header comes first');
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'only CRLF line ends are stored (no smuggling)');
    const headerEnd = text.indexOf('\r\n\r\n');
    const header = headerEnd === -1 ? text : text.slice(0, headerEnd + 2);
    assert.equal(
      withoutForgedAuthenticationResults(header, HOSTNAME),
      header,
      'no Authentication-Results field claiming our authserv-id survives',
    );
    if (headerEnd !== -1 || !text.slice(RECEIVED.length).includes('\r\n\r\n')) {
      assert.equal(missingSubmissionHeaders(header, 'x', 'y'), '', 'Message-ID and Date are present');
    }
  },
});
