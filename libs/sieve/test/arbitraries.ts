import fc from 'fast-check';
import type { MessageView } from '../src/index.js';

/** A message with the shapes that trip address parsing: a quoted comma, a group, the null sender. */
export const SAMPLE_MESSAGE: MessageView = {
  headers: [
    { name: 'From', value: '"Boss, The" <Boss@Example.com>' },
    { name: 'To', value: 'undisclosed: me@example.org, you@example.net;' },
    { name: 'Subject', value: 'Re: lunch?' },
  ],
  envelope: { from: '', to: 'me@example.org' },
  size: 500,
};

/** Well-formed scripts built from the grammar: property tests and the differential corpus use them. */
// Names and keys that hit the differential test's messages as often as they miss them.
const str = fc.constantFrom(
  '"subject"',
  '["from", "to"]',
  '["x-missing", "Sender"]',
  '"*report*"',
  '"boss"',
  '"example.com"',
  // Not "?uarterly*": Pigeonhole 2.3.19 matches a leading "?" + literal + "*" against anything
  // (`"?q*"` hits "The Boss"), against RFC 5228 2.7.1; interpreter.test.ts pins our behaviour.
  '"Q?arterly*"',
  '["imc.org", "Example.ORG"]',
);
const matchTag = fc.constantFrom('', ':is ', ':contains ', ':matches ', ':comparator "i;octet" ');
const { test: sieveTest } = fc.letrec<{ test: string }>((tie) => ({
  test: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      'true',
      'false',
      'size :over 10',
      'size :under 1M',
      'exists "From"',
      'exists ["From", "X-Spam-Flag"]',
      'size :over 2K',
    ),
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
  'redirect "r@example.net";',
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

export const wellFormedScript: fc.Arbitrary<string> = fc
  .array(command, { maxLength: 8 })
  .map((commands) => `require ["fileinto", "copy"];\n${commands.join('\n')}`);

// The extensions mixed in: relational and numeric comparisons, match variables carried into
// actions, set with modifiers, string and date tests (a date part of the Date or Received field).
const relation = fc.constantFrom('"gt"', '"ge"', '"lt"', '"le"', '"eq"', '"ne"');
const numeric = fc.constantFrom('', ':comparator "i;ascii-numeric" ');
const { test: extendedTest } = fc.letrec<{ test: string }>((tie) => ({
  test: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    sieveTest,
    fc
      .tuple(relation, numeric, str, fc.constantFrom('"0"', '"1"', '"2"', '"10"'))
      .map(([r, c, names, n]) => `header :count ${r} ${c}${names} ${n}`),
    fc
      .tuple(relation, numeric, fc.constantFrom('"from"', '["to", "cc"]', '"sender"'), str)
      .map(([r, c, names, keys]) => `address :value ${r} ${c}${names} ${keys}`),
    fc.tuple(matchTag, str).map(([m, k]) => `string ${m}["\${1}", "\${v}"] ${k}`),
    fc.constantFrom(
      'header :matches "subject" "* *"',
      'address :matches ["from", "to"] "*@*"',
      'header :matches "subject" "*r?p*"',
      'address :all :comparator "i;octet" :matches "from" "?*"',
    ),
    fc
      .tuple(
        fc.constantFrom(':is ', ':matches ', ':value "ge" '),
        fc.constantFrom('"date"', '"received"'),
        fc.constantFrom('"year"', '"month"', '"hour"', '"weekday"', '"zone"', '"julian"'),
        fc.constantFrom('"*"', '"2025"', '"0?"', '"1"', '"+0000"'),
      )
      .map(([m, h, p, k]) => `date ${m}${h} ${p} ${k}`),
    tie('test').map((t) => `not ${t}`),
    fc.array(tie('test'), { minLength: 1, maxLength: 3 }).map((ts) => `anyof (${ts.join(', ')})`),
  ),
}));
const extendedAction = fc.oneof(
  action,
  fc.constantFrom(
    'fileinto "M-${1}";',
    'fileinto "V-${v}-${0}";',
    'set :lower "v" "${1}";',
    'set :upperfirst :length "v" "${0}x";',
    'set :quotewildcard "v" "*${2}?";',
  ),
);
const extendedCommand = fc.oneof(
  extendedAction,
  fc
    .tuple(extendedTest, fc.array(extendedAction, { maxLength: 3 }))
    .map(([t, body]) => `if ${t} { ${body.join(' ')} }`),
);

export const extendedScript: fc.Arbitrary<string> = fc
  .array(extendedCommand, { maxLength: 8 })
  .map(
    (commands) =>
      'require ["fileinto", "copy", "variables", "relational", "comparator-i;ascii-numeric", "date"];\n' +
      commands.join('\n'),
  );
