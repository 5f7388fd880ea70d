import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FetchAttribute } from '../src/index.js';
import { parse, rejects, set } from './helpers.js';

function attributes(line: string): FetchAttribute[] {
  const request = parse(line);
  assert.equal(request.command, 'FETCH');
  return request.command === 'FETCH' ? request.attributes : [];
}

const whole = { part: [], text: null, fields: [] };

describe('FETCH', () => {
  test('RFC 9051 6.4.5 example: sequence range and a list of items', () => {
    assert.deepEqual(parse('A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])'), {
      command: 'FETCH',
      uid: false,
      set: set([2, 4]),
      attributes: [
        { kind: 'FLAGS' },
        {
          kind: 'BODY[]',
          section: { part: [], text: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] },
          partial: null,
          peek: false,
        },
      ],
      changedSince: null,
      vanished: false,
    });
  });

  test('macros expand', () => {
    assert.deepEqual(attributes('a FETCH 1 fast'), [
      { kind: 'FLAGS' },
      { kind: 'INTERNALDATE' },
      { kind: 'RFC822.SIZE' },
    ]);
    assert.deepEqual(
      attributes('a FETCH 1 ALL').map((a) => a.kind),
      ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
    );
    assert.deepEqual(
      attributes('a FETCH 1 FULL').map((a) => a.kind),
      ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
    );
  });

  test('every simple item, alone or in a list', () => {
    const simple = [
      'ENVELOPE',
      'FLAGS',
      'INTERNALDATE',
      'RFC822',
      'RFC822.HEADER',
      'RFC822.SIZE',
      'RFC822.TEXT',
      'BODY',
      'BODYSTRUCTURE',
      'UID',
      'MODSEQ',
    ];
    for (const item of simple)
      assert.deepEqual(attributes(`a FETCH * ${item.toLowerCase()}`), [{ kind: item }]);
    assert.deepEqual(
      attributes(`a FETCH 1 (${simple.join(' ')})`).map((a) => a.kind),
      simple,
    );
  });

  test('sections, parts, partials, PEEK', () => {
    assert.deepEqual(attributes('a FETCH 1 BODY.PEEK[]<0.2048>'), [
      { kind: 'BODY[]', section: whole, partial: { offset: 0, length: 2048 }, peek: true },
    ]);
    assert.deepEqual(
      attributes('a FETCH 1 (BODY[1.2.3] BODY[2.TEXT] BODY[3.MIME] BODY[4.1.HEADER] body[text])'),
      [
        { kind: 'BODY[]', section: { part: [1, 2, 3], text: null, fields: [] }, partial: null, peek: false },
        { kind: 'BODY[]', section: { part: [2], text: 'TEXT', fields: [] }, partial: null, peek: false },
        { kind: 'BODY[]', section: { part: [3], text: 'MIME', fields: [] }, partial: null, peek: false },
        { kind: 'BODY[]', section: { part: [4, 1], text: 'HEADER', fields: [] }, partial: null, peek: false },
        { kind: 'BODY[]', section: { part: [], text: 'TEXT', fields: [] }, partial: null, peek: false },
      ],
    );
    assert.deepEqual(attributes('a FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Received "X-Spam")]'), [
      {
        kind: 'BODY[]',
        section: { part: [], text: 'HEADER.FIELDS.NOT', fields: ['Received', 'X-Spam'] },
        partial: null,
        peek: true,
      },
    ]);
  });

  test('BINARY, BINARY.PEEK, BINARY.SIZE (RFC 3516)', () => {
    assert.deepEqual(attributes('a FETCH 1 (BINARY[1.2]<10.20> BINARY.PEEK[] BINARY.SIZE[3])'), [
      { kind: 'BINARY[]', part: [1, 2], partial: { offset: 10, length: 20 }, peek: false },
      { kind: 'BINARY[]', part: [], partial: null, peek: true },
      { kind: 'BINARY.SIZE', part: [3] },
    ]);
  });

  test('UID FETCH with CHANGEDSINCE and VANISHED (RFC 7162 examples)', () => {
    assert.deepEqual(parse('s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)'), {
      command: 'FETCH',
      uid: true,
      set: set([300, 500]),
      attributes: [{ kind: 'FLAGS' }],
      changedSince: 12345n,
      vanished: true,
    });
    assert.deepEqual(parse('a FETCH 1:* FLAGS (CHANGEDSINCE 0)'), {
      command: 'FETCH',
      uid: false,
      set: set([1, '*']),
      attributes: [{ kind: 'FLAGS' }],
      changedSince: 0n,
      vanished: false,
    });
  });

  test('bad FETCH', () => {
    rejects('a FETCH', /Expected a space after FETCH/);
    rejects('a FETCH 1', /Expected a space after the message set/);
    rejects('a FETCH 0 FLAGS', /Expected a message number/);
    rejects('a FETCH 1 FOO', /Unknown fetch item FOO/);
    rejects('a FETCH 1 (FLAGS', /"\)" closing the fetch items/);
    rejects('a FETCH 1 BODY[HEADER.FIELDS]', /Expected a space after HEADER.FIELDS/);
    rejects('a FETCH 1 BODY[MIME]', /Unknown section MIME/);
    rejects('a FETCH 1 BODY[1.FOO]', /Unknown section FOO/);
    rejects('a FETCH 1 BODY[0]', /Expected "\]"|Expected a part number|Expected HEADER/);
    rejects('a FETCH 1 BODY[]<0.0>', /Expected a partial length/);
    rejects('a FETCH 1 BODY[]<5>', /"\." in the partial range/);
    rejects('a FETCH 1 BODY.PEEK', /BODY.PEEK needs a section/);
    rejects('a FETCH 1 FLAGS (VANISHED)', /VANISHED needs UID FETCH with CHANGEDSINCE/);
    rejects('a UID FETCH 1 FLAGS (VANISHED)', /VANISHED needs UID FETCH with CHANGEDSINCE/);
    rejects('a FETCH 1 FLAGS (CHANGEDSINCE x)', /Expected a mod-sequence/);
    rejects('a FETCH 1 FLAGS (FOO)', /Unknown fetch modifier FOO/);
    rejects('a FETCH 4294967296 FLAGS', /too large/);
  });
});

describe('STORE', () => {
  test('RFC 9051 6.4.6 example', () => {
    assert.deepEqual(parse('A003 STORE 2:4 +FLAGS (\\Deleted)'), {
      command: 'STORE',
      uid: false,
      set: set([2, 4]),
      operation: 'add',
      silent: false,
      flags: ['\\Deleted'],
      unchangedSince: null,
    });
  });

  test('-FLAGS.SILENT, FLAGS, flags without parentheses, keywords, UNCHANGEDSINCE (RFC 7162)', () => {
    assert.deepEqual(parse('a UID STORE 1,3 -flags.silent (\\seen $Forwarded)'), {
      command: 'STORE',
      uid: true,
      set: set(1, 3),
      operation: 'remove',
      silent: true,
      flags: ['\\Seen', '$Forwarded'],
      unchangedSince: null,
    });
    assert.deepEqual(parse('a STORE * FLAGS \\Answered \\Flagged'), {
      command: 'STORE',
      uid: false,
      set: set('*'),
      operation: 'replace',
      silent: false,
      flags: ['\\Answered', '\\Flagged'],
      unchangedSince: null,
    });
    assert.deepEqual(parse('d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)'), {
      command: 'STORE',
      uid: false,
      set: set(7, 5, 9),
      operation: 'add',
      silent: true,
      flags: ['\\Deleted'],
      unchangedSince: 320162338n,
    });
    assert.deepEqual(parse('a STORE 1 FLAGS ()'), {
      command: 'STORE',
      uid: false,
      set: set(1),
      operation: 'replace',
      silent: false,
      flags: [],
      unchangedSince: null,
    });
  });

  test('bad STORE', () => {
    rejects('a STORE 1 +FLAG (\\Seen)', /Expected FLAGS, \+FLAGS or -FLAGS, found FLAG/);
    rejects('a STORE 1 +FLAGS', /Expected a space after FLAGS/);
    rejects('a STORE 1 FLAGS (\\)', /Expected a flag name after "\\"/);
    rejects('a STORE 1 FLAGS (a b', /"\)" closing the flag list/);
    rejects('a STORE 1 (FOO 1) FLAGS ()', /Expected UNCHANGEDSINCE/);
    rejects('a STORE 1 FLAGS (x*)', /"\)" closing the flag list/);
  });
});

describe('COPY and MOVE', () => {
  test('COPY, UID COPY, MOVE, UID MOVE', () => {
    assert.deepEqual(parse('A003 COPY 2:4 MEETING'), {
      command: 'COPY',
      uid: false,
      set: set([2, 4]),
      mailbox: 'MEETING',
    });
    assert.deepEqual(parse('a UID MOVE 42:69 foo'), {
      command: 'MOVE',
      uid: true,
      set: set([42, 69]),
      mailbox: 'foo',
    });
    assert.deepEqual(parse('a MOVE $ Trash'), {
      command: 'MOVE',
      uid: false,
      set: { kind: 'saved' },
      mailbox: 'Trash',
    });
    assert.deepEqual(parse('a uid copy 5:* "Sent Items"'), {
      command: 'COPY',
      uid: true,
      set: set([5, '*']),
      mailbox: 'Sent Items',
    });
  });

  test('bad COPY / MOVE', () => {
    rejects('a COPY 1', /Expected a space after the message set/);
    rejects('a MOVE 1:', /Expected a message number, a UID or "\*"/);
    rejects('a COPY 1,,2 x', /Expected a message number/);
    rejects('a COPY x y', /Expected a message number/);
  });
});
