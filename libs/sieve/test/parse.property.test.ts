import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseScript, runScript, SieveSyntaxError } from '../src/index.js';

const MESSAGE = {
  headers: [
    { name: 'Subject', value: 'Hello World' },
    { name: 'From', value: 'a@example.com' },
  ],
  envelope: { from: 'a@example.com', to: 'b@example.org' },
  size: 100,
};

const TOKENS = [
  'if',
  'elsif',
  'else',
  'require',
  'keep',
  'discard',
  'stop',
  'fileinto',
  'redirect',
  'header',
  'address',
  'envelope',
  'exists',
  'size',
  'not',
  'anyof',
  'allof',
  'true',
  'false',
  ':is',
  ':contains',
  ':matches',
  ':over',
  ':under',
  ':copy',
  ':domain',
  ':comparator',
  '"fileinto"',
  '"i;octet"',
  '"x"',
  '"a\\"b"',
  '10K',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  ';',
  'text:\n',
  '\n.\n',
  '..',
  '#',
  '/*',
  '*/',
  '\n',
  ' ',
  '"',
  '\\',
  ':',
];

test('token soup: parseScript answers a script or a SieveSyntaxError, nothing else', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (tokens) => {
      const source = tokens.join(' ');
      try {
        const script = parseScript(source);
        assert.ok(runScript(script, MESSAGE).actions.length > 0);
      } catch (error) {
        if (!(error instanceof SieveSyntaxError)) throw error;
      }
    }),
    { numRuns: 2000 },
  );
});

test('arbitrary text: the same, and error positions stay inside the script', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (source) => {
      try {
        parseScript(source);
      } catch (error) {
        if (!(error instanceof SieveSyntaxError)) throw error;
        assert.ok(error.line >= 1 && error.line <= source.split('\n').length);
        assert.ok(error.column >= 1);
      }
    }),
    { numRuns: 2000 },
  );
});

// Well-formed scripts built from the grammar always parse and run without a run-time error.
const str = fc.constantFrom('"Hello"', '"*o W*"', '"a@example.com"', '["x", "Subject"]', '"?ello*"');
const matchTag = fc.constantFrom('', ':is ', ':contains ', ':matches ', ':comparator "i;octet" ');
const { test: sieveTest } = fc.letrec<{ test: string }>((tie) => ({
  test: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', 'size :over 10', 'size :under 1M', 'exists "From"'),
    fc.tuple(matchTag, str, str).map(([m, a, b]) => `header ${m}${a} ${b}`),
    fc
      .tuple(matchTag, fc.constantFrom('', ':domain ', ':localpart '), str)
      .map(([m, p, k]) => `address ${m}${p}"from" ${k}`),
    tie('test').map((t) => `not ${t}`),
    fc.array(tie('test'), { minLength: 1, maxLength: 3 }).map((ts) => `anyof (${ts.join(', ')})`),
    fc.array(tie('test'), { minLength: 1, maxLength: 3 }).map((ts) => `allof (${ts.join(', ')})`),
  ),
}));
const action = fc.constantFrom(
  'keep;',
  'discard;',
  'fileinto "A";',
  'fileinto :copy "B";',
  'redirect "r@x";',
  'stop;',
);
const command = fc.oneof(
  action,
  fc
    .tuple(sieveTest, fc.array(action, { maxLength: 3 }), fc.option(fc.array(action, { maxLength: 2 })))
    .map(
      ([t, body, otherwise]) =>
        `if ${t} { ${body.join(' ')} }${otherwise ? ` else { ${otherwise.join(' ')} }` : ''}`,
    ),
);

test('well-formed scripts parse and run', () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 8 }), (commands) => {
      const script = parseScript(`require ["fileinto", "copy"];\n${commands.join('\n')}`);
      const result = runScript(script, MESSAGE);
      assert.equal(result.error, undefined);
      assert.ok(result.actions.length > 0);
    }),
    { numRuns: 500 },
  );
});
