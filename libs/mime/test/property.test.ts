import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import libbase64 from 'libbase64';
import libqp from 'libqp';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { BodyStructure } from '../src/index.js';
import { analyze, assertOffsetsSane, crlf, leaves } from './fixtures.js';

function bodyBytes(raw: Buffer, part: BodyStructure): Buffer {
  const body = raw.subarray(part.offsets.bodyStart, part.offsets.bodyEnd);
  if (part.kind !== 'multipart' && part.encoding === 'BASE64')
    return libbase64.decode(body.toString('latin1'));
  if (part.kind !== 'multipart' && part.encoding === 'QUOTED-PRINTABLE') return libqp.decode(body);
  return body;
}

const word = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{1,12}$/),
  fc.constantFrom('Grüße', '日本語', 'naïve', 'émoji 🎉', '--', '=?', 'Ünïcödé'),
);
const sentence = fc.array(word, { minLength: 1, maxLength: 30 }).map((w) => w.join(' '));

const mailArb = fc.record({
  subject: sentence,
  fromName: fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
  text: fc.array(sentence, { minLength: 1, maxLength: 20 }).map((l) => l.join('\n')),
  html: fc.option(sentence, { nil: undefined }),
  attachments: fc.array(
    fc.record({
      filename: fc.stringMatching(/^[a-z]{1,10}\.(pdf|png|txt|bin)$/),
      content: fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)),
    }),
    { maxLength: 4 },
  ),
  chunk: fc.integer({ min: 1, max: 300 }),
});

describe('property: messages built by nodemailer MailComposer', () => {
  test('size, hash, part count, headers and every part body round-trip', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(mailArb, async (m) => {
        const composer = new MailComposer({
          from: { name: m.fromName, address: 'sender@example.test' },
          to: 'rcpt@example.test',
          subject: m.subject,
          text: m.text,
          html: m.html,
          attachments: m.attachments.map((a) => ({ ...a })),
        });
        const raw = await composer.compile().build();
        const a = await analyze(raw, [m.chunk]);

        assert.equal(a.size, raw.length);
        assert.equal(a.sha256, createHash('sha256').update(raw).digest('hex'));
        assert.equal(a.malformed, false);
        assertOffsetsSane(a);
        assert.equal(a.headers.subject, m.subject);
        assert.deepEqual(a.headers.from, [{ name: m.fromName, address: 'sender@example.test' }]);

        const parts = leaves(a.bodystructure);
        assert.equal(parts.length, 1 + (m.html === undefined ? 0 : 1) + m.attachments.length);
        const plain = parts[0]!;
        assert.deepEqual([plain.type, plain.subtype], ['text', 'plain']);
        // A single-part message's body keeps the line break nodemailer ends it with.
        const text = bodyBytes(raw, plain).toString('utf8').replace(/\r\n/g, '\n');
        assert.equal(parts.length === 1 ? text.replace(/\n$/, '') : text, m.text);
        assert.ok(a.searchText.includes(m.text.split('\n')[0]!.trim().split(' ')[0]!));

        const attached = parts.slice(parts.length - m.attachments.length);
        attached.forEach((part, i) => {
          assert.deepEqual(bodyBytes(raw, part), m.attachments[i]!.content);
        });
        assert.deepEqual(
          a.attachments.map((x) => x.filename),
          m.attachments.map((x) => x.filename),
        );
        assert.equal(a.hasAttachments, m.attachments.length > 0);
      }),
      { numRuns: 150 },
    );
  });
});

// Random and mutated messages are the coverage-guided fuzz target's job (test/fuzz/mime-message.fuzz.ts,
// run by fuzz.test.ts); these are the inputs known to make naive parsers blow up.
describe('bounded on pathological input', () => {
  test('deep nesting and many boundaries stay bounded', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(`Content-Type: multipart/mixed; boundary=n${i}`, '', `--n${i}`);
    lines.push('', 'deep');
    for (let i = 499; i >= 0; i--) lines.push(`--n${i}--`);
    const a = await analyze(crlf(lines));
    assertOffsetsSane(a);
    assert.equal(a.malformed, true);

    const flat = ['Content-Type: multipart/mixed; boundary=f', ''];
    for (let i = 0; i < 5000; i++) flat.push('--f', '');
    const b = await analyze(crlf(flat));
    assertOffsetsSane(b);
    assert.ok(leaves(b.bodystructure).length < 1000);
  });

  // Inputs that make naive parsers go quadratic; the test timeout is the hang guard.
  test('pathological headers and HTML finish', { timeout: 60_000 }, async () => {
    const cases = [
      'To: ' + Array.from({ length: 20000 }, (_, i) => `u${i}@example.test`).join(', ') + '\r\n\r\nx',
      'Content-Type: text/plain; ' +
        Array.from({ length: 20000 }, (_, i) => `p*${i}*=x`).join('; ') +
        '\r\n\r\nx',
      Array.from({ length: 100000 }, (_, i) => `X-${i}: y`).join('\r\n') + '\r\n\r\nx',
      'From: ' + '"('.repeat(30000) + '\r\nDate: ' + '('.repeat(60000) + '\r\n\r\nx',
      'Subject: ' + '=?utf-8?Q?a?= '.repeat(20000) + '\r\n\r\nx',
      'Content-Type: text/html\r\n\r\n' + '<a <b <c '.repeat(100000) + '<!--',
      'Content-Type: text/html\r\n\r\n' + '<script>'.repeat(100000),
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n' + '--c\r\n'.repeat(200000),
    ];
    for (const text of cases) {
      const raw = Buffer.from(text);
      const a = await analyze(raw, [65536]);
      assert.equal(a.size, raw.length);
      assertOffsetsSane(a);
    }
  });
});
