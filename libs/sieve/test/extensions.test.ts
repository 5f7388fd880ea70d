import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageView, RunResult } from '../src/index.js';
import { matchCaptures, parseScript, runScript, SieveSyntaxError, vacationSkip } from '../src/index.js';

const MESSAGE: MessageView = {
  headers: [
    { name: 'From', value: 'Alice <alice@example.com>' },
    { name: 'To', value: 'me@example.org' },
    { name: 'Subject', value: '[acme-users] [fwd] version 1.0 is out' },
  ],
  envelope: { from: 'alice@example.com', to: 'me@example.org' },
  size: 500,
};

const run = (script: string, message: MessageView = MESSAGE): RunResult =>
  runScript(parseScript(script), message);
const folders = (result: RunResult): string[] =>
  result.actions.flatMap((a) => (a.type === 'fileinto' ? [a.mailbox] : []));

describe('variables (RFC 5229)', () => {
  test('match variables: leftmost wildcard shortest, the RFC 3.2 example', () => {
    const result = run(`require ["fileinto", "variables"];
      if header :matches "subject" "[*] *" { fileinto "\${1}/\${2}/\${0}"; }`);
    assert.deepEqual(folders(result), [
      'acme-users/[fwd] version 1.0 is out/[acme-users] [fwd] version 1.0 is out',
    ]);
  });
  test('captures keep the original case while matching folds it', () => {
    assert.deepEqual(matchCaptures('Hello World', 'h*W?RLD', 'matches', 'i;ascii-casemap'), [
      'Hello World',
      'ello ',
      'o',
    ]);
    assert.equal(matchCaptures('x', 'y*', 'matches', 'i;octet'), null);
  });
  test('a failed :matches leaves the match variables as they were', () => {
    const result = run(`require ["fileinto", "variables"];
      if header :matches "from" "*@*" { }
      if header :matches "subject" "nothing*" { }
      fileinto "\${2}";`);
    assert.deepEqual(folders(result), ['example.com>']);
  });
  test('set modifiers apply by precedence: :lower before :upperfirst, :length last', () => {
    const result = run(`require ["fileinto", "variables"];
      set :upperfirst :lower "a" "hELLO wORLD"; set :length :upper "n" "çà"; set :quotewildcard "q" "*?\\\\";
      fileinto "\${a}|\${n}|\${q}|\${unset}|\${A}";`);
    assert.deepEqual(folders(result), ['Hello world|2|\\*\\?\\\\||Hello world']);
  });
  test('string test, :count ignores empty strings', () => {
    const result = run(`require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
      set "e" ""; if string :count "eq" :comparator "i;ascii-numeric" ["\${e}", "x", "y"] "2" { fileinto "two"; }`);
    assert.deepEqual(folders(result), ['two']);
  });
  test('bad names and too many variables are refused at parse time', () => {
    assert.throws(() => parseScript('require "variables"; set "a.b" "x";'), SieveSyntaxError);
    assert.throws(() => parseScript('require "variables"; set "1a" "x";'), SieveSyntaxError);
    const many = Array.from({ length: 256 }, (_, i) => `set "v${i}" "x";`).join('');
    assert.throws(() => parseScript(`require "variables"; ${many}`), /more than 255 variables/);
    assert.throws(() => parseScript('set "a" "b";'), /needs require "variables"/);
  });
  test('a value is cut to maxVariableBytes, an expansion to maxExpandedBytes (never unbounded)', () => {
    const script = parseScript(`require ["fileinto", "variables"];
      set "a" "${'é'.repeat(10)}"; set "b" "\${a}\${a}\${a}\${a}"; fileinto "\${b}\${b}";`);
    const result = runScript(script, MESSAGE, { maxVariableBytes: 5, maxExpandedBytes: 9 });
    assert.deepEqual(folders(result), ['éééé']);
  });
  test('without require "variables" ${...} is literal text', () => {
    assert.deepEqual(folders(run('require "fileinto"; fileinto "${x}";')), ['${x}']);
  });
});

describe('vacation (RFC 5230)', () => {
  test('the action: who, subject, reason, handle, days clamped to 1..60', () => {
    const result = run(`require "vacation";
      vacation :days 0 :subject "Away" :from "me@example.org" :handle "h" :mime "Content-Type: text/plain\r\n\r\nAway.";`);
    assert.deepEqual(result.actions, [
      {
        type: 'vacation',
        to: 'alice@example.com',
        from: 'me@example.org',
        subject: 'Away',
        reason: 'Content-Type: text/plain\r\n\r\nAway.',
        mime: true,
        handle: 'h',
        days: 1,
      },
      { type: 'keep' },
    ]);
    const long = run('require "vacation"; vacation :days 365 "x";').actions[0];
    assert.equal(long?.type === 'vacation' && long.days, 60);
  });
  test('a constant :from must be one address; with variables it is taken as it comes', () => {
    parseScript('require "vacation"; vacation :from "Me <me@example.org>" "x";');
    assert.throws(() => parseScript('require "vacation"; vacation :from "a@b, c@d" "x";'), /not an address/);
    assert.throws(() => parseScript('require "vacation"; vacation :from "nobody" "x";'), /not an address/);
    parseScript('require ["vacation", "variables"]; vacation :from "${me}" "x";');
  });
  test('default subject "Auto: " + the original; default handle stable per text, different per text', () => {
    const a = run('require "vacation"; vacation "one";').actions[0];
    const b = run('require "vacation"; vacation "one";').actions[0];
    const c = run('require "vacation"; vacation "two";').actions[0];
    assert.ok(a?.type === 'vacation' && b?.type === 'vacation' && c?.type === 'vacation');
    assert.equal(a.subject, 'Auto: [acme-users] [fwd] version 1.0 is out');
    assert.equal(a.days, 7);
    assert.equal(a.handle, b.handle);
    assert.notEqual(a.handle, c.handle);
  });
  const skipped = (
    change: Partial<MessageView>,
    extra: { name: string; value: string }[] = [],
  ): string | null =>
    vacationSkip({ ...MESSAGE, ...change, headers: [...(change.headers ?? MESSAGE.headers), ...extra] });
  test('never to the null sender, mail systems, lists, bulk, auto-replies, the user', () => {
    assert.equal(skipped({}), null);
    assert.equal(skipped({ envelope: { from: '', to: 'me@example.org' } }), 'null sender');
    for (const from of ['MAILER-DAEMON@x.org', 'owner-list@x.org', 'list-request@x.org'])
      assert.equal(skipped({ envelope: { from, to: 'me@example.org' } }), 'sender is a mail system or list');
    assert.equal(skipped({}, [{ name: 'List-Id', value: '<a.b>' }]), 'mailing list');
    assert.equal(skipped({}, [{ name: 'Precedence', value: 'Bulk' }]), 'bulk precedence');
    assert.equal(skipped({}, [{ name: 'Auto-Submitted', value: 'auto-replied' }]), 'auto-submitted');
    assert.equal(skipped({}, [{ name: 'Auto-Submitted', value: 'no' }]), null);
    assert.equal(
      skipped({ envelope: { from: 'ME@example.org', to: 'me@example.org' } }),
      'sender is the user',
    );
    assert.equal(skipped({ ownAddresses: ['alice@example.com'] }), 'sender is the user');
    assert.equal(skipped({ headers: [{ name: 'To', value: 'other@example.net' }] }), 'user not in To/Cc');
    assert.equal(
      vacationSkip({ ...MESSAGE, headers: [{ name: 'Cc', value: 'alias@example.org' }] }, [
        'alias@example.org',
      ]),
      null,
    );
  });
  test('a second vacation or a reject after one fails the run (as Pigeonhole), answered or not', () => {
    const nullSender = { ...MESSAGE, envelope: { from: '', to: 'me@example.org' } };
    for (const message of [MESSAGE, nullSender]) {
      const result = run('require ["vacation", "reject"]; vacation "x"; reject "no";', message);
      assert.deepEqual(result.actions, [{ type: 'keep' }]);
      assert.match(result.error?.message ?? '', /conflicts/);
    }
    assert.match(run('require "vacation"; vacation "a"; vacation "b";').error?.message ?? '', /duplicate/);
  });
  test('a skipped vacation is no action, and says why', () => {
    const result = run('require "vacation"; vacation "x";', {
      ...MESSAGE,
      envelope: { from: '', to: 'me@example.org' },
    });
    assert.deepEqual(result, { actions: [{ type: 'keep' }], vacationSkipped: 'null sender' });
  });
});

describe('reject, relational, body', () => {
  test('reject and ereject cancel the implicit keep', () => {
    assert.deepEqual(run('require "reject"; reject "no";').actions, [
      { type: 'reject', reason: 'no', ereject: false },
    ]);
    assert.deepEqual(run('require "ereject"; ereject "no";').actions, [
      { type: 'reject', reason: 'no', ereject: true },
    ]);
  });
  test(':value and :count with i;ascii-numeric (no digits = infinity)', () => {
    const require = 'require ["fileinto", "relational", "comparator-i;ascii-numeric"];';
    const message = { ...MESSAGE, headers: [...MESSAGE.headers, { name: 'X-Score', value: '12' }] };
    assert.deepEqual(
      folders(
        run(
          `${require} if header :value "gt" :comparator "i;ascii-numeric" "x-score" "9" { fileinto "hi"; }`,
          message,
        ),
      ),
      ['hi'],
    );
    assert.deepEqual(
      folders(run(`${require} if header :value "gt" "x-score" "9" { fileinto "hi"; }`, message)),
      [],
    );
    assert.deepEqual(
      folders(
        run(
          `${require} if header :value "lt" :comparator "i;ascii-numeric" "subject" "99999" { fileinto "x"; }`,
        ),
      ),
      [],
    );
    assert.deepEqual(
      folders(
        run(
          `${require} if address :count "eq" :comparator "i;ascii-numeric" ["to", "from"] "2" { fileinto "two"; }`,
        ),
      ),
      ['two'],
    );
    assert.throws(
      () => parseScript(`${require} if header :value "xx" "a" "b" { keep; }`),
      /unknown relation/,
    );
    assert.throws(
      () => parseScript('if header :comparator "i;ascii-numeric" "a" "b" { keep; }'),
      SieveSyntaxError,
    );
  });
  test('body: absent = false; :raw, :text, :content by type', () => {
    const require = 'require ["fileinto", "body"];';
    const script = `${require} if body :contains "hello" { fileinto "t"; }
      if body :raw :contains "=3D" { fileinto "r"; } if body :content "image" :contains "" { fileinto "i"; }
      if body :content "text/html" :contains "<b>" { fileinto "h"; }`;
    assert.deepEqual(folders(run(script)), []);
    const body = {
      raw: 'a=3Db hello',
      parts: [
        { contentType: 'text/plain', text: 'hello' },
        { contentType: 'text/html', text: '<b>hi</b>' },
      ],
    };
    assert.deepEqual(folders(run(script, { ...MESSAGE, body })), ['t', 'r', 'h']);
  });
});

describe('encoded-character (RFC 5228 2.4.2.4), spamtest/virustest (RFC 5235)', () => {
  test('${hex:} octets form UTF-8 across one sequence, ${unicode:} code points; malformed stays literal', () => {
    const result = run(`require ["fileinto", "encoded-character"];
      fileinto "\${hex: 63 61 66 C3 A9}|\${UNICODE:263a 41}|\${hex:xyz}|\${hex:}";`);
    assert.deepEqual(folders(result), ['café|☺A|${hex:xyz}|${hex:}']);
    assert.deepEqual(folders(run('require "fileinto"; fileinto "${hex:41}";')), ['${hex:41}']);
    assert.throws(
      () => parseScript('require ["fileinto", "encoded-character"]; fileinto "${unicode:D800}";'),
      /invalid unicode/,
    );
  });
  const spamScript = (test: string): string =>
    `require ["fileinto", "spamtestplus", "virustest", "relational", "comparator-i;ascii-numeric"];
     if ${test} { fileinto "yes"; }`;
  const numeric = ':value "ge" :comparator "i;ascii-numeric"';
  test('spamtest: 0 untested, 1..10 scaled from score/max; :percent 0..100', () => {
    assert.deepEqual(folders(run(spamScript('spamtest :is "0"'))), ['yes']);
    const spammy = { ...MESSAGE, spam: { score: 9, max: 10 } };
    assert.deepEqual(folders(run(spamScript(`spamtest ${numeric} "9"`), spammy)), ['yes']);
    assert.deepEqual(folders(run(spamScript('spamtest :is "9"'), spammy)), ['yes']);
    assert.deepEqual(folders(run(spamScript(`spamtest :percent ${numeric} "95"`), spammy)), []);
    assert.deepEqual(folders(run(spamScript(`spamtest :percent ${numeric} "90"`), spammy)), ['yes']);
    assert.throws(
      () => parseScript('require "spamtest"; if spamtest :percent "1" { keep; }'),
      SieveSyntaxError,
    );
  });
  test('virustest: 0 untested, else the 1..5 verdict', () => {
    assert.deepEqual(folders(run(spamScript('virustest :is "0"'))), ['yes']);
    assert.deepEqual(folders(run(spamScript(`virustest ${numeric} "4"`), { ...MESSAGE, virus: 5 })), ['yes']);
    assert.deepEqual(folders(run(spamScript(`virustest ${numeric} "4"`), { ...MESSAGE, virus: 1 })), []);
  });
});

describe('date and currentdate (RFC 5260)', () => {
  const dated = (value: string): MessageView => ({
    ...MESSAGE,
    headers: [...MESSAGE.headers, { name: 'Date', value }],
  });
  const require = 'require ["fileinto", "date", "variables"];';
  test('parts in the user zone, :zone, :originalzone; obsolete forms parse', () => {
    const script = `${require}
      if date :matches "date" "iso8601" "*" { fileinto "\${1}"; }
      if date :zone "-0100" :matches "date" "std11" "*" { fileinto "\${1}"; }
      if date :originalzone :matches "date" "zone" "*" { fileinto "\${1}"; }
      if date :matches "date" "julian" "*" { fileinto "mjd \${1}"; }`;
    assert.deepEqual(folders(run(script, { ...dated('1 Jan 70 00:30 EST'), zone: '+0200' })), [
      '1970-01-01T07:30:00+02:00',
      'Thu, 01 Jan 1970 04:30:00 -0100',
      '-0500',
      'mjd 40587',
    ]);
  });
  test('Received: the date after the last ";"; an unparsable or missing date fails the test', () => {
    const received: MessageView = {
      ...MESSAGE,
      headers: [{ name: 'Received', value: 'from x by y; Mon, 3 Feb 2025 10:00:00 +0000' }],
    };
    assert.deepEqual(
      folders(run(`${require} if date :is "received" "month" "02" { fileinto "feb"; }`, received)),
      ['feb'],
    );
    assert.deepEqual(
      folders(run(`${require} if date :contains "date" "year" "" { fileinto "x"; }`, dated('soon'))),
      [],
    );
    assert.deepEqual(folders(run(`${require} if date :contains "date" "year" "" { fileinto "x"; }`)), []);
  });
  test('currentdate reads the caller-given time only (no clock in the library)', () => {
    const script = `${require} if currentdate :is "date" "2026-12-05" { fileinto "today"; }`;
    assert.deepEqual(folders(run(script)), []);
    assert.deepEqual(folders(run(script, { ...MESSAGE, now: new Date('2026-12-05T00:50:00Z') })), ['today']);
  });
});

describe('index (RFC 5260 6)', () => {
  test(':index picks one field from the top, with :last from the bottom; :last alone is refused', () => {
    const message: MessageView = {
      ...MESSAGE,
      headers: ['a', 'b', 'c'].map((value) => ({ name: 'X-Hop', value })),
    };
    const pick = (tags: string): string[] =>
      folders(
        run(
          `require ["fileinto", "index", "variables"]; if header ${tags} :matches "x-hop" "*" { fileinto "\${1}"; }`,
          message,
        ),
      );
    assert.deepEqual(pick(''), ['a']);
    assert.deepEqual(pick(':index 2'), ['b']);
    assert.deepEqual(pick(':index 1 :last'), ['c']);
    assert.deepEqual(pick(':index 4'), []);
    // date :originalzone takes the zone of the picked field (Pigeonhole 2.3.19 takes the first one's).
    const hops: MessageView = {
      ...MESSAGE,
      headers: [
        { name: 'Received', value: 'by a; Tue, 4 Feb 2025 11:00:00 +0100' },
        { name: 'Received', value: 'by b; Mon, 3 Feb 2025 23:30:00 -0500' },
      ],
    };
    const zone = run(
      'require ["fileinto", "index", "date"]; if date :index 2 :originalzone :is "received" "zone" "-0500" { fileinto "z"; }',
      hops,
    );
    assert.deepEqual(folders(zone), ['z']);
    assert.throws(
      () => parseScript('require "index"; if header :last "a" "b" { keep; }'),
      /:last" needs ":index/,
    );
    assert.throws(() => parseScript('if header :index 1 "a" "b" { keep; }'), /needs require "index"/);
  });
});

describe('mailboxexists (RFC 5490 3.1)', () => {
  test('true when every name exists in the caller-given list; INBOX in any case; no list = false', () => {
    const script = 'require ["fileinto", "mailbox"]; if mailboxexists ["inbox", "Work"] { fileinto "yes"; }';
    assert.deepEqual(folders(run(script, { ...MESSAGE, mailboxes: ['INBOX', 'Work'] })), ['yes']);
    assert.deepEqual(folders(run(script, { ...MESSAGE, mailboxes: ['INBOX', 'work'] })), []);
    assert.deepEqual(folders(run(script)), []);
  });
});

describe('imap4flags with variables (RFC 5232 3)', () => {
  test('setflag/addflag/removeflag on a named variable leave the internal flags alone; hasflag reads it', () => {
    const result = run(`require ["imap4flags", "variables", "fileinto"];
      setflag "f" "\\\\Seen a"; addflag "f" "b A"; removeflag "f" "b";
      if hasflag :is "f" "a" { fileinto :flags "\${f}" "X"; }`);
    assert.deepEqual(result.actions, [
      { type: 'fileinto', mailbox: 'X', copy: false, create: false, flags: ['\\Seen', 'a'] },
    ]);
    assert.throws(() => parseScript('require "imap4flags"; setflag "f" "x";'), /too many arguments/);
  });
});
