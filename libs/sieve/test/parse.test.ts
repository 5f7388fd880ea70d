import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Test } from '../src/index.js';
import { parseScript, SieveSyntaxError } from '../src/index.js';

function rejects(source: string, message: RegExp, line: number, column: number): void {
  assert.throws(
    () => parseScript(source),
    (error: unknown) => {
      assert.ok(error instanceof SieveSyntaxError, `expected SieveSyntaxError, got ${String(error)}`);
      assert.match(error.message, message);
      assert.deepEqual([error.line, error.column], [line, column], error.message);
      return true;
    },
  );
}

const strings = (command: Test, index: number): string[] => {
  const arg = command.args[index];
  assert.equal(arg?.type, 'strings');
  return arg.type === 'strings' ? arg.values : [];
};

describe('lexical tokens (RFC 5228 2.2-2.4)', () => {
  test('comments of both kinds are skipped', () => {
    const script = parseScript('# hash\r\n/* bracket\r\n comment */ keep; # trailing\r\ndiscard;');
    assert.deepEqual(
      script.commands.map((c) => c.name),
      ['keep', 'discard'],
    );
  });

  test('numbers take K, M and G quantifiers', () => {
    const sizes = ['10', '1K', '2m', '1G'].map((n) => {
      const test = parseScript(`if size :over ${n} { keep; }`).commands[0]!.tests[0]!;
      const arg = test.args[1]!;
      return arg.type === 'number' ? arg.value : -1;
    });
    assert.deepEqual(sizes, [10, 1024, 2 * 1024 ** 2, 1024 ** 3]);
  });

  test('quoted strings: \\" and \\\\ stand for themselves, other backslashes are dropped, CRLF may appear', () => {
    const script = parseScript('require "fileinto"; fileinto "a\\"b\\\\c\\d\r\ne";');
    assert.deepEqual(strings(script.commands[1]!, 0), ['a"b\\cd\r\ne']);
  });

  test('text: multi-line strings undo dot-stuffing and end at a lone dot', () => {
    const source = 'require "fileinto";\r\nfileinto text: # comment\r\nline one\r\n..dotted\r\n.\r\n;';
    assert.deepEqual(strings(parseScript(source).commands[1]!, 0), ['line one\r\n.dotted\r\n']);
    // Bare LF line ends as Pigeonhole accepts them.
    assert.deepEqual(strings(parseScript('require "fileinto"; fileinto text:\nx\n.\n;').commands[1]!, 0), [
      'x\r\n',
    ]);
  });

  test('identifiers and tags are case-insensitive', () => {
    const script = parseScript('IF Header :CONTAINS "Subject" "x" { KEEP; }');
    assert.equal(script.commands[0]!.name, 'if');
    assert.equal(script.commands[0]!.tests[0]!.name, 'header');
  });
});

describe('RFC 5228 examples', () => {
  test('section 9 example script parses', () => {
    const source = `#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`;
    const script = parseScript(source);
    assert.deepEqual(
      script.commands.map((c) => c.name),
      ['require', 'if', 'elsif', 'elsif', 'else'],
    );
    assert.deepEqual([...script.require], ['fileinto']);
    const anyof = script.commands[3]!.tests[0]!;
    assert.equal(anyof.name, 'anyof');
    assert.deepEqual(
      anyof.tests.map((t) => t.name),
      ['not', 'header'],
    );
  });

  test('section 2.4.2 multi-line example with a string list', () => {
    const script = parseScript(
      'require ["fileinto", "envelope"];\nif envelope :is "from" ["a@b", "c@d"] { discard; }',
    );
    assert.deepEqual(strings(script.commands[1]!.tests[0]!, 2), ['a@b', 'c@d']);
  });
});

describe('errors carry line and column', () => {
  test('unknown command', () => rejects('keep;\n  frobnicate;', /unknown command "frobnicate"/, 2, 3));
  test('missing semicolon', () => rejects('keep\n}', /expected ";" or "\{"/, 2, 1));
  test('unterminated string', () => rejects('keep;\nif header "a" "b', /unterminated quoted string/, 2, 15));
  test('unterminated comment', () => rejects('keep; /* never closed', /unterminated \/\* comment/, 1, 7));
  test('unterminated text:', () =>
    rejects('require "fileinto";\nfileinto text:\nabc\n', /unterminated multi-line/, 2, 10));
  test('fileinto without require', () =>
    rejects('if true {\n fileinto "x"; }', /needs require "fileinto"/, 2, 2));
  test('unsupported extension', () =>
    rejects('require ["fileinto", "regex"];', /unsupported extension "regex"/, 1, 9));
  test('require after a command', () => rejects('keep;\nrequire "fileinto";', /must come before/, 2, 1));
  test('elsif without if', () => rejects('keep;\nelsif true { keep; }', /"elsif" without "if"/, 2, 1));
  test('unknown tag', () => rejects('if header :regex "a" "b" { keep; }', /unknown tag ":regex"/, 1, 11));
  test('two match types', () =>
    rejects('if header :is :contains "a" "b" { keep; }', /conflicting tag/, 1, 15));
  test('unknown comparator', () =>
    rejects('if header :comparator "i;unicode" "a" "b" { keep; }', /unknown comparator/, 1, 23));
  test('size without :over or :under', () => rejects('if size 10 { keep; }', /needs :over or :under/, 1, 4));
  test('missing argument', () => rejects('if header "a" { keep; }', /missing argument/, 1, 4));
  test('not with a test list (as Pigeonhole refuses it)', () =>
    rejects('if not (true) { keep; }', /"not" needs one test, not a test list/, 1, 4));
  test('anyof without a test list', () =>
    rejects('if anyof true { keep; }', /"anyof" needs a test list/, 1, 4));
  test(':detail without require "subaddress"', () =>
    rejects('if address :detail "to" "x" { keep; }', /":detail" needs require "subaddress"/, 1, 12));
  test('if without block', () => rejects('if true;', /"if" needs a block/, 1, 1));
  test('unexpected character', () => rejects('keep;\n\n  @', /unexpected character "@"/, 3, 3));
  test('number too large', () =>
    rejects('if size :over 99999999999999999999 { keep; }', /number too large/, 1, 15));
});

describe('limits', () => {
  test('script size', () => {
    assert.throws(() => parseScript('keep;'.repeat(10), { maxScriptBytes: 20 }), /larger than 20 bytes/);
  });

  test('nesting of blocks and of tests', () => {
    const blocks = 'if true {'.repeat(40) + 'keep;' + '}'.repeat(40);
    assert.throws(
      () => parseScript(blocks),
      (e: unknown) => e instanceof SieveSyntaxError && /nesting/.test(e.message),
    );
    const tests = 'if ' + 'not '.repeat(40) + 'true { keep; }';
    assert.throws(
      () => parseScript(tests),
      (e: unknown) => e instanceof SieveSyntaxError && /nesting/.test(e.message),
    );
    // 10 levels are fine.
    parseScript('if true {'.repeat(10) + 'keep;' + '}'.repeat(10));
  });

  test('a deep nesting far past the limit is refused, not a stack overflow', () => {
    assert.throws(() => parseScript('if ' + 'anyof('.repeat(100_000)), SieveSyntaxError);
    assert.throws(() => parseScript('if true {'.repeat(100_000)), SieveSyntaxError);
  });
});
