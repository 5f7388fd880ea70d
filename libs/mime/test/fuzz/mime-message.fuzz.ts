import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import type { BodyStructure, MessageAnalysis } from '../../src/index.js';
import { addressListText, messageSummary, parseSectionPath, sectionRange } from '../../src/index.js';
import { decodedAddressList, imapAddressList } from '../../src/address.js';
import { charsetToString, decodeTransfer } from '../../src/body-decode.js';
import { allParts, analyze, assertOffsetsSane } from '../fixtures.js';

/** An analysis in which any error the analyzer swallowed (to keep the message) is a finding. */
async function strictAnalyze(raw: Buffer, chunks: number[]): Promise<MessageAnalysis> {
  let internal: unknown = null;
  const analysis = await analyze(raw, chunks, {
    onInternalError: (error) => {
      internal ??= error;
    },
  });
  if (internal) throw internal;
  return analysis;
}

/** What IMAP FETCH and search do with a part: its section path and range, its decoded text. */
function readPart(raw: Buffer, root: BodyStructure, part: BodyStructure): void {
  const path = parseSectionPath(part.section);
  assert.ok(path, `section ${part.section} parses`);
  const range = sectionRange(root, path, part.kind === 'message' ? 'HEADER' : undefined);
  if (range) assert.ok(range.start <= range.end && range.end <= raw.length, `range of ${part.section}`);
  if (part.kind === 'multipart' || part.kind === 'message') return;
  const body = raw.subarray(part.offsets.bodyStart, part.offsets.bodyEnd);
  charsetToString(decodeTransfer(body, part.encoding), part.params.charset);
}

/**
 * libs/mime on any bytes: analyze (BODYSTRUCTURE with offsets, ENVELOPE, decoded headers, search
 * text, attachments) must not fail inside, give the same answer however the message is chunked, keep
 * every offset inside the message, and every part must be readable by section and decodable.
 */
export default fuzzTarget({
  coverage: ['/mime/src/'],
  maxInputBytes: 32 * 1024,
  // Two analyses and every part decoded per input: garbage linear in the input, up to ~1 KB a byte.
  allocation: { floorBytes: 16 * 1024 * 1024, perInputByte: 1024 },
  dictionary: [
    '\r\n\r\n',
    '\r\n--b\r\n',
    '\r\n--b--\r\n',
    'Content-Type: multipart/mixed; boundary=b\r\n',
    'Content-Type: multipart/alternative; boundary="c"\r\n',
    'Content-Type: message/rfc822\r\n',
    'Content-Type: text/plain; charset=iso-2022-jp\r\n',
    'Content-Type: text/plain; format=flowed; delsp=yes\r\n',
    'Content-Type: text/html\r\n',
    'Content-Transfer-Encoding: base64\r\n',
    'Content-Transfer-Encoding: quoted-printable\r\n',
    "Content-Disposition: attachment; filename*=utf-8''%C3%A9.pdf\r\n",
    'From: "a (b)" <a@b>, g: c@d, e@f;\r\n',
    'To: ',
    'Subject: =?utf-8?B?w7xiZXI=?= =?iso-8859-1?Q?=E9?=\r\n',
    '=?utf-8?Q?',
    '?=',
    '=\r\n',
    '=C3=A9',
    '<html><body><p>',
    '<!--',
    '<script>',
    '\r\n\t',
  ],
  async run(input) {
    const whole = await strictAnalyze(input, [input.length || 1]);
    assert.deepEqual(
      await strictAnalyze(input, [7, 1, 64]),
      whole,
      'the same analysis however it is chunked',
    );
    assert.equal(whole.size, input.length);
    assertOffsetsSane(whole);
    for (const part of allParts(whole.bodystructure)) readPart(input, whole.bodystructure, part);
    messageSummary(whole);
    for (const value of [
      whole.rawHeaders.from,
      whole.rawHeaders.to,
      whole.rawHeaders.cc,
      whole.rawHeaders.replyTo,
    ]) {
      imapAddressList(value);
      addressListText(decodedAddressList(value));
    }
  },
});
