import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FetchAttribute, Section } from '../src/index.js';
import {
  astr,
  compressSequenceSet,
  decodeMailboxName,
  encodeMailboxName,
  encodeValues,
  formatDate,
  formatDateTime,
  formatSection,
  formatSequenceSet,
  mailboxValue,
  resolveSequenceSet,
  str,
} from '../src/index.js';
import { anyText, atomText, flag, imapDate, searchKey, sequenceSet } from './arbitraries.js';
import { parse } from './helpers.js';
import { formatSearchKey } from './search-key-format.js';

const wire = (value: Parameters<typeof encodeValues>[0][number], utf8 = false): string =>
  encodeValues([value], { utf8 }).toString('latin1');

describe('serialize then parse gives back the value', () => {
  test('sequence sets', () => {
    fc.assert(
      fc.property(sequenceSet, (set) => {
        const request = parse(`a UID FETCH ${formatSequenceSet(set)} UID`);
        assert.deepEqual(request.command === 'FETCH' && request.set, set);
      }),
    );
  });

  test('compressed UID lists expand to the same UIDs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 60 }), (uids) => {
        const request = parse(`a UID EXPUNGE ${compressSequenceSet(uids)}`);
        assert.ok(request.command === 'EXPUNGE' && request.uids?.kind === 'set');
        const expanded: number[] = [];
        for (const [low, high] of resolveSequenceSet(request.uids, 500))
          for (let n = low; n <= high; n++) expanded.push(n);
        assert.deepEqual(
          expanded,
          [...new Set(uids)].sort((x, y) => x - y),
        );
      }),
    );
  });

  test('strings and astrings, with and without UTF8=ACCEPT', () => {
    fc.assert(
      fc.property(anyText, anyText, fc.boolean(), (user, password, utf8) => {
        const line = Buffer.from(`a LOGIN ${wire(astr(user), utf8)} ${wire(str(password), utf8)}`, 'latin1');
        assert.deepEqual(parse(line), { command: 'LOGIN', username: user, password });
      }),
    );
  });

  test('mailbox names: modified UTF-7 both ways, and through a command', () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (name, utf8) => {
        const decoded = decodeMailboxName(encodeMailboxName(name));
        assert.deepEqual(decoded, { name });
        fc.pre(name.toUpperCase() !== 'INBOX');
        const line = Buffer.from(`a SELECT ${wire(mailboxValue(name, { utf8 }), utf8)}`, 'latin1');
        const request = parse(line, { utf8Accept: utf8 });
        assert.equal(request.command === 'SELECT' && request.mailbox, name);
      }),
    );
  });

  test('date-times (INTERNALDATE / APPEND) and dates (SEARCH)', () => {
    const instant = fc.integer({ min: Date.UTC(1000, 0, 2) / 1000, max: Date.UTC(9999, 11, 30) / 1000 });
    const offset = fc.integer({ min: -1439, max: 1439 });
    fc.assert(
      fc.property(instant, offset, (seconds, minutes) => {
        const date = new Date(seconds * 1000);
        const request = parse(`a APPEND x "${formatDateTime(date, minutes)}" {1}\r\nx`);
        assert.equal(
          request.command === 'APPEND' && request.messages[0]!.internalDate!.getTime(),
          date.getTime(),
        );
      }),
    );
    fc.assert(
      fc.property(imapDate, (date) => {
        const request = parse(`a SEARCH SINCE ${formatDate(date)}`);
        assert.deepEqual(request.command === 'SEARCH' && request.criteria, [{ key: 'SINCE', date }]);
      }),
    );
  });

  test('flag lists', () => {
    fc.assert(
      fc.property(fc.array(flag, { maxLength: 10 }), (flags) => {
        const request = parse(`a STORE 1 +FLAGS (${flags.join(' ')})`);
        assert.deepEqual(request.command === 'STORE' && request.flags, flags);
      }),
    );
  });

  test('search keys', () => {
    fc.assert(
      fc.property(fc.array(searchKey, { minLength: 1, maxLength: 4 }), (keys) => {
        const line = Buffer.from(`a SEARCH CHARSET UTF-8 ${keys.map(formatSearchKey).join(' ')}`, 'utf8');
        const request = parse(line);
        assert.deepEqual(request.command === 'SEARCH' && request.criteria, keys);
      }),
      { numRuns: 300 },
    );
  });
});

describe('fetch items written back parse the same', () => {
  const part = fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 });
  const partial = fc.option(
    fc.record(
      { offset: fc.nat(), length: fc.integer({ min: 1, max: 0xffffffff }) },
      { noNullPrototype: true },
    ),
    { nil: null },
  );
  const section = fc
    .tuple(
      part,
      fc.constantFrom(null, 'HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME'),
      fc.array(atomText, { minLength: 1, maxLength: 4 }),
    )
    .map(([p, text, fields]): Section => {
      const t = text === 'MIME' && p.length === 0 ? 'TEXT' : (text as Section['text']);
      return { part: p, text: t, fields: t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT' ? fields : [] };
    });
  const attribute: fc.Arbitrary<FetchAttribute> = fc.oneof(
    fc
      .constantFrom(
        'ENVELOPE',
        'FLAGS',
        'INTERNALDATE',
        'RFC822',
        'RFC822.HEADER',
        'RFC822.SIZE',
        'RFC822.TEXT',
      )
      .map((kind) => ({ kind }) as FetchAttribute),
    fc.constantFrom('BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ').map((kind) => ({ kind }) as FetchAttribute),
    fc.constantFrom('SAVEDATE', 'EMAILID', 'THREADID').map((kind) => ({ kind }) as FetchAttribute),
    fc.boolean().map((lazy) => ({ kind: 'PREVIEW' as const, lazy })),
    fc
      .tuple(section, partial, fc.boolean())
      .map(([s, p, peek]) => ({ kind: 'BODY[]' as const, section: s, partial: p, peek })),
    fc
      .tuple(part, partial, fc.boolean())
      .map(([p, range, peek]) => ({ kind: 'BINARY[]' as const, part: p, partial: range, peek })),
    part.map((p) => ({ kind: 'BINARY.SIZE' as const, part: p })),
  );

  function formatAttribute(a: FetchAttribute): string {
    const range = (p: { offset: number; length: number } | null): string =>
      p ? `<${p.offset}.${p.length}>` : '';
    switch (a.kind) {
      case 'BODY[]':
        return `BODY${a.peek ? '.PEEK' : ''}[${formatSection(a.section)}]${range(a.partial)}`;
      case 'BINARY[]':
        return `BINARY${a.peek ? '.PEEK' : ''}[${a.part.join('.')}]${range(a.partial)}`;
      case 'BINARY.SIZE':
        return `BINARY.SIZE[${a.part.join('.')}]`;
      case 'PREVIEW':
        return a.lazy ? 'PREVIEW (LAZY)' : 'PREVIEW';
      default:
        return a.kind;
    }
  }

  test('attribute lists', () => {
    fc.assert(
      fc.property(sequenceSet, fc.array(attribute, { minLength: 1, maxLength: 6 }), (s, attributes) => {
        const request = parse(
          `a FETCH ${formatSequenceSet(s)} (${attributes.map(formatAttribute).join(' ')})`,
        );
        assert.deepEqual(request.command === 'FETCH' && request.attributes, attributes);
      }),
    );
  });
});
