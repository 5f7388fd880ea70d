import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  StoredShapeError,
  readStoredBodyStructure,
  readStoredEnvelope,
  storedBodyStructure,
  storedEnvelope,
} from '../src/index.js';
import type { Envelope } from '../src/index.js';
import { analyze, crlf } from './fixtures.js';

/** What a row holds after PostgreSQL jsonb: JSON text parsed again. */
const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const token = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const words = fc.array(
  fc.constantFrom('Grüße', '=?utf-8?B?w7xiZXI=?=', 'hello', '"quoted"', '(comment)', 'x'),
  {
    minLength: 1,
    maxLength: 4,
  },
);
const addressField = fc.oneof(
  fc.tuple(token, token).map(([local, domain]) => `${local}@${domain}.test`),
  fc.tuple(words, token, token).map(([name, l, d]) => `${name.join(' ')} <${l}@${d}.test>`),
  fc.tuple(token, token, token).map(([group, l, d]) => `${group}: ${l}@${d}.test, ${d}@${l}.test;`),
  fc.constant('undisclosed-recipients:;'),
  token,
);

/** A MIME tree rendered to lines: leaves, multiparts and message/rfc822 parts, nested a few levels. */
const { part } = fc.letrec<{ part: string[] }>((tie) => ({
  part: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    words.map((w) => ['Content-Type: text/plain; charset=utf-8', '', ...w]),
    fc
      .uint8Array({ maxLength: 90 })
      .map((bytes) => [
        'Content-Type: application/octet-stream; name="a.bin"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="a.bin"',
        '',
        Buffer.from(bytes).toString('base64'),
      ]),
    fc
      .tuple(token, fc.array(tie('part'), { minLength: 1, maxLength: 3 }))
      .map(([boundary, children]) => [
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        ...children.flatMap((child) => [`--${boundary}`, ...child]),
        `--${boundary}--`,
      ]),
    fc
      .tuple(words, tie('part'))
      .map(([subject, inner]) => [
        'Content-Type: message/rfc822',
        '',
        `Subject: ${subject.join(' ')}`,
        ...inner,
      ]),
  ),
}));

const message = fc
  .record({ subject: words, from: addressField, to: fc.array(addressField, { maxLength: 3 }), body: part })
  .map((m) =>
    crlf([
      `Subject: ${m.subject.join(' ')}`,
      `From: ${m.from}`,
      ...(m.to.length ? [`To: ${m.to.join(', ')}`] : []),
      'Date: Sat, 01 Feb 2007 01:02:03 +0200',
      'MIME-Version: 1.0',
      ...m.body,
    ]),
  );

describe('stored ENVELOPE and BODYSTRUCTURE', () => {
  test('what the analyzer produces reads back unchanged after the database', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        const a = await analyze(raw);
        assert.deepEqual(readStoredEnvelope(throughJson(storedEnvelope(a.envelope))), a.envelope);
        assert.deepEqual(
          readStoredBodyStructure(throughJson(storedBodyStructure(a.bodystructure))),
          a.bodystructure,
        );
      }),
      { numRuns: 200 },
    );
  });

  test('rows are written with the version', async () => {
    const a = await analyze(crlf(['Subject: hi', '', 'body']));
    assert.equal(storedEnvelope(a.envelope).version, 1);
    assert.equal(storedBodyStructure(a.bodystructure).version, 1);
  });

  test('rows stored before versions were recorded are version 1', async () => {
    const a = await analyze(crlf(['Subject: hi', 'To: a@b.test', '', 'body']));
    assert.deepEqual(readStoredEnvelope(throughJson(a.envelope)), a.envelope);
    assert.deepEqual(readStoredBodyStructure(throughJson(a.bodystructure)), a.bodystructure);
  });

  test('the placeholders of older rows read as "", inside message parts too', async () => {
    const a = await analyze(
      crlf(['Content-Type: message/rfc822', '', 'Bcc: postmaster', 'Subject: inner', '', 'inner body']),
    );
    const old = throughJson(a.bodystructure) as { envelope: Envelope };
    old.envelope.bcc = [
      [null, null, 'postmaster', 'MISSING_DOMAIN'],
      ['Joe', null, 'MISSING_MAILBOX', 'MISSING_DOMAIN'],
      [null, null, 'group', null],
      [null, null, null, null],
    ];
    const read = readStoredBodyStructure(old);
    assert.equal(read.kind, 'message');
    assert.deepEqual(read.kind === 'message' && read.envelope.bcc, [
      [null, null, 'postmaster', ''],
      ['Joe', null, '', ''],
      [null, null, 'group', null],
      [null, null, null, null],
    ]);
    const envelope = { ...(throughJson(a.envelope) as Envelope), to: [['x', null, 'MISSING_MAILBOX', 'd']] };
    assert.deepEqual(readStoredEnvelope(envelope).to, [['x', null, '', 'd']]);
  });

  test('an unreadable row is a StoredShapeError that says what and where', async () => {
    const a = await analyze(
      crlf(['Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'one', '--b--']),
    );
    const structure = throughJson(a.bodystructure) as { parts: { offsets: unknown }[] };
    structure.parts[0]!.offsets = { headerStart: 0 };
    const cases: [() => unknown, RegExp][] = [
      [
        () => readStoredBodyStructure(structure, 'message 7'),
        /^stored bodystructure cannot be read: parts\.0\.offsets\.bodyStart of message 7: /,
      ],
      [() => readStoredEnvelope(null), /^stored envelope cannot be read: none stored \(null\)$/],
      [
        () => readStoredEnvelope({ ...a.envelope, version: 2 }),
        /version 2 is not one this reader knows \(1\)/,
      ],
      [() => readStoredEnvelope({ ...a.envelope, from: 5 }), /^stored envelope cannot be read: from: /],
      [() => readStoredBodyStructure({ kind: 'text' }), /^stored bodystructure cannot be read: /],
      [() => readStoredBodyStructure('[]'), /none stored \(string\)/],
    ];
    for (const [read, message] of cases) {
      assert.throws(
        read,
        (error: unknown) => error instanceof StoredShapeError && message.test(error.message),
      );
    }
  });

  test('any JSON at all is read or refused with StoredShapeError, never another error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        for (const read of [readStoredEnvelope, readStoredBodyStructure]) {
          try {
            read(json);
          } catch (error) {
            assert.ok(error instanceof StoredShapeError, String(error));
          }
        }
      }),
    );
  });
});
