import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse, rejects, set } from './helpers.js';

describe('SELECT and EXAMINE', () => {
  test('plain, any-case INBOX, CONDSTORE', () => {
    assert.deepEqual(parse('A142 SELECT inbox'), {
      command: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: null,
    });
    assert.deepEqual(parse('A142 EXAMINE "Sent Items" (CONDSTORE)'), {
      command: 'EXAMINE',
      mailbox: 'Sent Items',
      condstore: true,
      qresync: null,
    });
  });

  test('QRESYNC with known UIDs and sequence match data (RFC 7162 3.2.5.2 example)', () => {
    assert.deepEqual(parse('A03 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541))'), {
      command: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modseq: 90060115194045000n,
        knownUids: set([41, 211], [214, 541]),
        seqMatch: null,
      },
    });
    assert.deepEqual(
      parse(
        'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29975:29978,29981)))',
      ),
      {
        command: 'SELECT',
        mailbox: 'INBOX',
        condstore: false,
        qresync: {
          uidValidity: 67890007,
          modseq: 90060115194045000n,
          knownUids: set([1, 29997]),
          seqMatch: {
            sequences: set(5000, 7500, 9000, [9990, 9999]),
            uids: set(15000, 22500, 27000, 29970, 29973, [29975, 29978], 29981),
          },
        },
      },
    );
    assert.deepEqual(parse('a SELECT INBOX (QRESYNC (1 2))'), {
      command: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: { uidValidity: 1, modseq: 2n, knownUids: null, seqMatch: null },
    });
  });

  test('bad select parameters', () => {
    rejects('a SELECT', /Expected a space after SELECT/);
    rejects('a SELECT INBOX (FOO)', /Unknown select parameter FOO/);
    rejects('a SELECT INBOX (QRESYNC (0 5))', /Expected a UIDVALIDITY/);
    rejects('a SELECT INBOX (QRESYNC (1 0))', /mod-sequence must not be zero/);
    rejects('a SELECT INBOX (QRESYNC (1 99999999999999999999))', /too large/);
    rejects('a SELECT INBOX (CONDSTORE', /"\)" closing the select parameters/);
  });
});

describe('mailbox names', () => {
  test('modified UTF-7 is decoded (RFC 3501 5.1.3 example)', () => {
    assert.deepEqual(parse('a CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-'), {
      command: 'CREATE',
      mailbox: '~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e',
      specialUse: [],
    });
    assert.deepEqual(parse('a DELETE "Tom &- Jerry"'), { command: 'DELETE', mailbox: 'Tom & Jerry' });
  });

  test('malformed modified UTF-7 is refused', () => {
    rejects('a DELETE &Jjo', /without a closing "-"/);
    rejects('a DELETE &AGE-', /encodes printable ASCII/);
    rejects('a DELETE &Jj!-', /invalid modified UTF-7/);
    rejects('a DELETE &2D3-', /invalid modified UTF-7|unpaired/);
  });

  test('UTF8=ACCEPT takes names as UTF-8 and leaves "&" alone', () => {
    assert.deepEqual(parse('a DELETE "Caf\u00e9 &Co"', { utf8Accept: true }), {
      command: 'DELETE',
      mailbox: 'Caf\u00e9 &Co',
    });
  });
});

describe('CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE', () => {
  test('CREATE with USE (RFC 6154)', () => {
    assert.deepEqual(parse('t1 CREATE MySpecial (USE (\\drafts \\Sent))'), {
      command: 'CREATE',
      mailbox: 'MySpecial',
      specialUse: ['\\drafts', '\\Sent'],
    });
    rejects('t1 CREATE x (USE (Drafts))', /Expected a special-use attribute/);
    rejects('t1 CREATE x (FOO (\\Drafts))', /Expected USE/);
  });

  test('RENAME', () => {
    assert.deepEqual(parse('A683 RENAME blurdybloop sarasoop'), {
      command: 'RENAME',
      from: 'blurdybloop',
      to: 'sarasoop',
    });
    rejects('A683 RENAME blurdybloop', /Expected a space after the existing mailbox name/);
  });

  test('SUBSCRIBE, UNSUBSCRIBE', () => {
    assert.deepEqual(parse('A002 SUBSCRIBE #news.comp.mail.mime'), {
      command: 'SUBSCRIBE',
      mailbox: '#news.comp.mail.mime',
    });
    assert.deepEqual(parse('A002 UNSUBSCRIBE {5}\r\nTrash'), { command: 'UNSUBSCRIBE', mailbox: 'Trash' });
    rejects('A002 SUBSCRIBE a b', /at the end of SUBSCRIBE/);
  });
});

describe('LIST and LSUB', () => {
  const plain = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  const none = { subscribed: false, children: false, specialUse: false, status: null };

  test('basic LIST (RFC 9051 6.3.9 examples)', () => {
    assert.deepEqual(parse('A101 LIST "" ""'), {
      command: 'LIST',
      reference: '',
      patterns: [''],
      selection: plain,
      returns: none,
      extended: false,
    });
    assert.deepEqual(parse('A202 LIST ~/Mail/ %'), {
      command: 'LIST',
      reference: '~/Mail/',
      patterns: ['%'],
      selection: plain,
      returns: none,
      extended: false,
    });
    assert.deepEqual(parse('A1 list "" *]x'), {
      command: 'LIST',
      reference: '',
      patterns: ['*]x'],
      selection: plain,
      returns: none,
      extended: false,
    });
  });

  test('LIST-EXTENDED selection and return options (RFC 5258, 6154, 5819)', () => {
    assert.deepEqual(parse('A04 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (CHILDREN)'), {
      command: 'LIST',
      reference: '',
      patterns: ['%'],
      selection: { ...plain, subscribed: true, recursiveMatch: true },
      returns: { ...none, children: true },
      extended: true,
    });
    assert.deepEqual(parse('t1 LIST (SPECIAL-USE REMOTE) "" ("*" "Foo/&ZeVnLIqe-")'), {
      command: 'LIST',
      reference: '',
      patterns: ['*', 'Foo/\u65e5\u672c\u8a9e'],
      selection: { ...plain, specialUse: true, remote: true },
      returns: none,
      extended: true,
    });
    assert.deepEqual(parse('A01 LIST "" % RETURN (SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))'), {
      command: 'LIST',
      reference: '',
      patterns: ['%'],
      selection: plain,
      returns: {
        subscribed: true,
        children: false,
        specialUse: true,
        status: ['MESSAGES', 'UNSEEN', 'SIZE'],
      },
      extended: true,
    });
    assert.deepEqual(parse('A01 LIST () "" % RETURN ()'), {
      command: 'LIST',
      reference: '',
      patterns: ['%'],
      selection: plain,
      returns: none,
      extended: true,
    });
  });

  test('bad LIST', () => {
    rejects('a LIST (RECURSIVEMATCH) "" %', /RECURSIVEMATCH needs another selection option/);
    rejects('a LIST (FOO) "" %', /Unknown LIST selection option FOO/);
    rejects('a LIST "" % RETURN (FOO)', /Unknown LIST return option FOO/);
    rejects('a LIST "" % RETURN (STATUS (BOGUS))', /Unknown status item BOGUS/);
    rejects('a LIST ""', /Expected a space after the reference name/);
    rejects('a LIST "" % EXTRA', /Expected RETURN/);
  });

  test('LSUB', () => {
    assert.deepEqual(parse('A002 LSUB "#news." "comp.mail.*"'), {
      command: 'LSUB',
      reference: '#news.',
      pattern: 'comp.mail.*',
    });
    rejects('A002 LSUB "#news."', /Expected a space after the reference name/);
  });
});

describe('STATUS', () => {
  test('items, including SIZE, DELETED, HIGHESTMODSEQ and APPENDLIMIT', () => {
    assert.deepEqual(
      parse('A042 STATUS blurdybloop (UIDNEXT MESSAGES size deleted HIGHESTMODSEQ APPENDLIMIT)'),
      {
        command: 'STATUS',
        mailbox: 'blurdybloop',
        items: ['UIDNEXT', 'MESSAGES', 'SIZE', 'DELETED', 'HIGHESTMODSEQ', 'APPENDLIMIT'],
      },
    );
    rejects('A042 STATUS blurdybloop ()', /Expected a status item/);
    rejects('A042 STATUS blurdybloop (FOO)', /Unknown status item FOO/);
    rejects('A042 STATUS blurdybloop', /Expected a space after the mailbox name/);
  });
});

describe('APPEND', () => {
  const message = 'Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n';

  test('flags, date-time and literal (RFC 9051 6.3.12 example)', () => {
    const line = `A003 APPEND saved-messages (\\Seen) "07-Feb-1994 21:52:25 -0800" {${message.length}}\r\n${message}`;
    assert.deepEqual(parse(line), {
      command: 'APPEND',
      mailbox: 'saved-messages',
      messages: [
        {
          flags: ['\\Seen'],
          internalDate: new Date('1994-02-08T05:52:25Z'),
          internalZone: -480,
          content: Buffer.from(message),
          binary: false,
        },
      ],
    });
  });

  test('without flags or date, LITERAL+, literal8 and MULTIAPPEND', () => {
    assert.deepEqual(parse('a APPEND INBOX {3+}\r\nabc'), {
      command: 'APPEND',
      mailbox: 'INBOX',
      messages: [{ flags: null, internalDate: null, content: Buffer.from('abc'), binary: false }],
    });
    const binary = Buffer.concat([Buffer.from('a APPEND Drafts () ~{3}\r\n'), Buffer.from([0x61, 0, 0x62])]);
    assert.deepEqual(parse(binary), {
      command: 'APPEND',
      mailbox: 'Drafts',
      messages: [{ flags: [], internalDate: null, content: Buffer.from([0x61, 0, 0x62]), binary: true }],
    });
    const multi = parse('a APPEND x (\\Draft) " 1-Jan-2020 00:00:00 +0000" {1}\r\nA {1+}\r\nB');
    assert.equal(multi.command, 'APPEND');
    assert.deepEqual(
      multi.command === 'APPEND' &&
        multi.messages.map((m) => [m.flags, m.internalDate, m.content.toString()]),
      [
        [['\\Draft'], new Date('2020-01-01T00:00:00Z'), 'A'],
        [null, null, 'B'],
      ],
    );
  });

  test('UTF8 (literal8) data of RFC 6855', () => {
    assert.deepEqual(parse('a APPEND INBOX (\\Seen) UTF8 (~{4}\r\nab\u00e9)', { utf8Accept: true }), {
      command: 'APPEND',
      mailbox: 'INBOX',
      messages: [{ flags: ['\\Seen'], internalDate: null, content: Buffer.from('ab\u00e9'), binary: true }],
    });
    rejects('a APPEND INBOX UTF8 ({4}\r\nabcd)', /Expected a binary literal/);
    rejects('a APPEND INBOX UTF8 (~{4}\r\nabcd', /"\)" after the UTF8 message/);
  });

  test('bad APPEND', () => {
    rejects('a APPEND INBOX', /APPEND needs a message/);
    rejects('a APPEND INBOX "hello"', /Expected a date-time|Expected the day/);
    rejects('a APPEND INBOX hello', /Expected the message as a literal/);
    rejects('a APPEND INBOX (\\Seen {3}\r\nabc', /Expected a flag/);
    rejects('a APPEND INBOX "31-Feb-2020 00:00:00 +0000" {1}\r\nx', /no day 31/);
    rejects('a APPEND INBOX "01-Feb-2020 25:00:00 +0000" {1}\r\nx', /Invalid time of day/);
    rejects('a APPEND INBOX "01-Foo-2020 00:00:00 +0000" {1}\r\nx', /month name/);
    rejects('a APPEND INBOX {3}\r\na\0b', /cannot hold NUL/);
    rejects('a APPEND INBOX {3}abc', /must end the line/);
  });
});
