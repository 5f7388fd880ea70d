import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { analyzeMessage, PREVIEW_MAX_CHARS, previewPart, previewText } from '../src/index.js';
import type { BodyStructure } from '../src/index.js';

async function structureOf(lines: string[]): Promise<{ raw: Buffer; structure: BodyStructure }> {
  const raw = Buffer.from(lines.join('\r\n'));
  const analysis = await analyzeMessage(Readable.from([raw]));
  return { raw, structure: analysis.bodystructure };
}

/** The preview of a whole message, as the gateway makes it from the part's octets. */
async function preview(lines: string[]): Promise<string | null> {
  const { raw, structure } = await structureOf(lines);
  const part = previewPart(structure);
  if (!part) return null;
  return previewText(raw.subarray(part.offsets.bodyStart, part.offsets.bodyEnd), part, true);
}

describe('PREVIEW text (RFC 8970)', () => {
  test('the first inline text/plain, else text/html; attachments and forwarded mail are not looked into', async () => {
    const mixed = [
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'inner text',
      '--b',
      'Content-Type: text/plain',
      'Content-Disposition: attachment; filename="a.txt"',
      '',
      'attached',
      '--b',
      'Content-Type: multipart/alternative; boundary="c"',
      '',
      '--c',
      'Content-Type: text/html',
      '',
      '<p>html   version</p>',
      '--c',
      'Content-Type: text/plain',
      '',
      'plain\tversion',
      '--c--',
      '--b--',
      '',
    ];
    assert.equal(await preview(mixed), 'plain version');
    const htmlOnly = ['Content-Type: text/html', '', '<div>Hi <i>there</i></div><script>x()</script>', ''];
    assert.match((await preview(htmlOnly)) ?? '', /^Hi there/);
    assert.equal(await preview(['Content-Type: image/png', '', 'png', '']), null);
  });

  test('at most 256 characters, whitespace runs made one space, no surrogate pair cut', () => {
    fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 600 }), async (text) => {
        const lines = [
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: base64',
          '',
          ...(Buffer.from(text)
            .toString('base64')
            .match(/.{1,76}/g) ?? []),
          '',
        ];
        const got = (await preview(lines)) ?? '';
        assert.ok([...got].length <= PREVIEW_MAX_CHARS);
        assert.doesNotMatch(got, /\s\s|^\s|\s$|[\r\n\t]/u);
        assert.equal(Buffer.from(got, 'utf8').toString('utf8'), got);
        const expected = [...text.replace(/\s+/gu, ' ').trim()].slice(0, PREVIEW_MAX_CHARS).join('');
        assert.ok(
          expected.replace(/\p{Cc}/gu, '').startsWith(got) || got === expected.replace(/\p{Cc}/gu, ''),
        );
      }),
      { numRuns: 100 },
    );
  });

  test('a body cut short drops its last, possibly broken, line', async () => {
    const { raw, structure } = await structureOf([
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'first line',
      'second =C3=',
      '',
    ]);
    const part = previewPart(structure)!;
    const cut = raw.subarray(
      part.offsets.bodyStart,
      part.offsets.bodyStart + 'first line\r\nsecond =C3='.length,
    );
    assert.equal(previewText(cut, part, false), 'first line');
  });
});
