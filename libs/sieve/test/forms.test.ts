import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type {
  MessageView,
  Rule,
  RuleInput,
  SieveAction,
  VacationForm,
  VacationFormInput,
} from '../src/index.js';
import {
  FormError,
  parseRules,
  parseScript,
  parseVacationForm,
  newScriptName,
  readForms,
  runScript,
  writeForms,
} from '../src/index.js';
import { extendedScript, wellFormedScript } from './arbitraries.js';

const message = (subject: string, extra: MessageView['headers'] = []): MessageView => ({
  headers: [
    { name: 'From', value: 'Alice <alice@example.com>' },
    { name: 'To', value: 'me@example.org' },
    { name: 'Subject', value: subject },
    ...extra,
  ],
  envelope: { from: 'alice@example.com', to: 'me@example.org' },
  size: 500,
  now: new Date('2026-07-15T12:00:00Z'),
});

const vacation = (input: Partial<VacationFormInput> = {}): VacationForm =>
  parseVacationForm({ enabled: true, body: 'I am away.', ...input });
const rules = (...input: RuleInput[]): Rule[] => parseRules(input);

/** Fragments a hostile user would type: Sieve's own syntax, markers, escapes, line breaks, dots. */
const HOSTILE = [
  'a',
  'B',
  ' ',
  '"',
  '\\',
  '\\"',
  '";',
  '"; discard; #',
  '} discard; if true {',
  '.',
  '..',
  '\n.\n',
  '\n',
  '\r\n',
  '\r',
  '#',
  '/*',
  '*/',
  'text:',
  '# correo-forms end',
  '# correo-forms v1 {"vacation":null,"rules":[]}',
  '*',
  '?',
  '$',
  '{',
  'é',
  '☺',
];
const hostile = (max = 12) =>
  fc.array(fc.constantFrom(...HOSTILE), { maxLength: max }).map((p) => p.join(''));
/** One line of hostile text (the forms refuse control characters in one-line fields). */
const hostileLine = hostile().map((s) => s.replace(/[\r\n]/g, ''));

describe('vacation form -> Sieve', () => {
  test('the script for a plain form, exactly', () => {
    const script = writeForms('', {
      vacation: vacation({
        subject: 'Away',
        days: 5,
        from: 'me@example.org',
        addresses: ['alias@example.org'],
      }),
    });
    assert.equal(
      script,
      '# correo-forms v1 {"vacation":{"enabled":true,"subject":"Away","body":"I am away.","days":5,' +
        '"addresses":["alias@example.org"],"from":"me@example.org"},"rules":[]}\n' +
        '# Written by the rules and vacation forms; edits between these markers are replaced.\n' +
        'require "vacation";\n' +
        'vacation :days 5 :subject "Away" :from "me@example.org" :addresses "alias@example.org" text:\nI am away.\n.\n;\n' +
        '# correo-forms end\n',
    );
    const [reply] = runScript(parseScript(script), message('hello')).actions;
    assert.deepEqual(
      { ...reply, handle: '' },
      {
        type: 'vacation',
        to: 'alice@example.com',
        from: 'me@example.org',
        subject: 'Away',
        reason: 'I am away.\r\n',
        mime: false,
        handle: '',
        days: 5,
      },
    );
  });

  test('a disabled form keeps its text but replies to nobody', () => {
    const script = writeForms('', { vacation: vacation({ enabled: false, body: 'Back on Monday' }) });
    assert.deepEqual(runScript(parseScript(script), message('x')).actions, [{ type: 'keep' }]);
    assert.equal(readForms(script).vacation?.body, 'Back on Monday');
  });

  test('first and last day (date extension), in the given zone', () => {
    const script = writeForms('', {
      vacation: vacation({ start: '2026-07-10', end: '2026-07-20', zone: '+0200' }),
    });
    assert.match(script, /require \["date", "relational", "vacation"\]/);
    const at = (iso: string) =>
      runScript(parseScript(script), { ...message('x'), now: new Date(iso) }).actions.some(
        (a) => a.type === 'vacation',
      );
    assert.equal(at('2026-07-15T12:00:00Z'), true);
    assert.equal(at('2026-07-09T21:59:00Z'), false, '23:59 on the 9th at +0200');
    assert.equal(at('2026-07-09T22:00:00Z'), true, 'midnight of the 10th at +0200');
    assert.equal(at('2026-07-20T21:59:00Z'), true);
    assert.equal(at('2026-07-20T22:00:00Z'), false);
  });

  test('what the form refuses, by field', () => {
    const fields = (input: unknown) => {
      try {
        parseVacationForm(input);
        return [];
      } catch (error) {
        assert.ok(error instanceof FormError);
        return error.details.map((d) => d.field);
      }
    };
    assert.deepEqual(fields({ enabled: true, body: 'x', from: 'not an address' }), ['from']);
    assert.deepEqual(fields({ enabled: true, body: 'x', addresses: ['a@b', 'no'] }), ['addresses.1']);
    assert.deepEqual(fields({ enabled: true, body: 'x', subject: 'two\nlines' }), ['subject']);
    assert.deepEqual(fields({ enabled: true, body: 'cost: ${price}' }), ['body']);
    assert.deepEqual(fields({ enabled: true, body: '' }), ['body']);
    assert.deepEqual(fields({ enabled: true, body: 'x', days: 0 }), ['days']);
    assert.deepEqual(fields({ enabled: true, body: 'x', start: '2026-02-30x' }), ['start']);
    assert.deepEqual(fields({ enabled: true, body: 'x', start: '2026-03-02', end: '2026-03-01' }), ['end']);
    assert.deepEqual(fields({ enabled: true, body: 'x', script: 'discard;' }), ['vacation']);
  });

  test('property: any text the form takes comes back as the reply, and nothing else happens', () => {
    fc.assert(
      fc.property(hostile(20), hostileLine, fc.integer({ min: 1, max: 30 }), (body, subject, days) => {
        let form: VacationForm;
        try {
          form = vacation({ body, subject, days });
        } catch (error) {
          assert.ok(error instanceof FormError, String(error));
          return;
        }
        const script = writeForms('', { vacation: form });
        const actions = runScript(parseScript(script), message('hi')).actions;
        const expected = body
          .replace(/\r\n?/g, '\n')
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => `${l}\r\n`)
          .join('');
        assert.equal(actions.length, 2, JSON.stringify(actions));
        const reply = actions.find((a) => a.type === 'vacation');
        assert.ok(reply);
        assert.equal(reply.reason, expected);
        if (subject) assert.equal(reply.subject, subject);
        assert.equal(reply.days, days);
        assert.deepEqual(readForms(script).vacation, form);
      }),
      { numRuns: 500 },
    );
  });
});

describe('rules form -> Sieve', () => {
  test('the Sieve of a rule, and what it does', () => {
    const form = rules(
      {
        name: 'Invoices',
        conditions: [
          { field: 'subject', match: 'contains', value: 'invoice' },
          { field: 'from', match: 'is', value: 'billing@shop.example' },
        ],
        actions: [{ type: 'fileinto', folder: 'Bills' }, { type: 'read' }, { type: 'stop' }],
      },
      {
        name: 'Lists',
        match: 'any',
        conditions: [
          { field: 'header', header: 'List-Id', match: 'contains', value: 'pelicans' },
          { field: 'to', match: 'matches', value: '*@lists.example' },
        ],
        actions: [{ type: 'flag' }, { type: 'redirect', address: 'me@elsewhere.example', copy: true }],
      },
      { name: 'Off', enabled: false, conditions: [], actions: [{ type: 'discard' }] },
    );
    const script = writeForms('', { rules: form });
    assert.ok(
      script.includes(
        'require ["copy", "fileinto", "imap4flags", "mailbox"];\n' +
          '# rule "Invoices"\n' +
          'if allof (header :contains "subject" "invoice", address :all :is "from" "billing@shop.example") {\n' +
          '  addflag "\\\\Seen";\n  fileinto :create "Bills";\n  stop;\n}\n' +
          '# rule "Lists"\n' +
          'if anyof (header :contains "List-Id" "pelicans", address :all :matches ["to", "cc"] "*@lists.example") {\n' +
          '  addflag "\\\\Flagged";\n  redirect :copy "me@elsewhere.example";\n}\n' +
          '# correo-forms end\n',
      ),
      script,
    );
    const bill = runScript(parseScript(script), {
      ...message('Your invoice', [{ name: 'List-Id', value: '<pelicans.example>' }]),
      envelope: { from: 'billing@shop.example', to: 'me@example.org' },
      headers: [
        { name: 'From', value: 'billing@shop.example' },
        { name: 'Subject', value: 'Your invoice' },
      ],
    });
    assert.deepEqual(bill.actions, [
      { type: 'fileinto', mailbox: 'Bills', copy: false, create: true, flags: ['\\Seen'] },
    ]);
    const list = runScript(
      parseScript(script),
      message('news', [{ name: 'List-Id', value: '<pelicans.example>' }]),
    );
    assert.deepEqual(list.actions, [
      { type: 'redirect', address: 'me@elsewhere.example', copy: true },
      { type: 'keep', flags: ['\\Flagged'] },
    ]);
    assert.deepEqual(readForms(script).rules, form, 'the disabled rule is kept in the form');
  });

  test('property: hostile text in names, values and folders never adds an action of its own', () => {
    const condition = fc.record({
      field: fc.constantFrom('from', 'to', 'subject', 'header' as const),
      match: fc.constantFrom('contains', 'is', 'matches' as const),
      value: hostileLine,
    });
    const action = fc.oneof(
      hostileLine.map((folder) => ({ type: 'fileinto' as const, folder: `F${folder}` })),
      fc.constantFrom({ type: 'read' as const }, { type: 'flag' as const }, { type: 'stop' as const }),
    );
    const rule = fc.record({
      name: hostileLine.map((n) => `R${n}`),
      match: fc.constantFrom('all', 'any' as const),
      conditions: fc.array(condition, { maxLength: 3 }),
      actions: fc.array(action, { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 4 }), hostileLine, (input, subject) => {
        let form: Rule[];
        try {
          form = parseRules(
            input.map((r) => ({
              ...r,
              conditions: r.conditions.map((c) => (c.field === 'header' ? { ...c, header: 'X-Tag' } : c)),
            })),
          );
        } catch (error) {
          assert.ok(error instanceof FormError, String(error));
          return;
        }
        const script = writeForms('', { rules: form });
        const folders = new Set(
          form.flatMap((r) => r.actions.flatMap((a) => (a.type === 'fileinto' ? [a.folder] : []))),
        );
        const actions: SieveAction[] = runScript(
          parseScript(script),
          message(subject, [{ name: 'X-Tag', value: subject }]),
        ).actions;
        for (const a of actions) {
          assert.ok(
            a.type === 'keep' || (a.type === 'fileinto' && folders.has(a.mailbox)),
            JSON.stringify(a),
          );
        }
        // A rule on the subject's own text always matches it: the value arrived intact.
        // (Within <>: a header's value loses its outer white space, as in Pigeonhole.)
        if (!/[*?\\]/.test(subject) && !subject.includes('${')) {
          const one = parseRules([
            {
              name: 'one',
              conditions: [{ field: 'subject', match: 'is', value: `<${subject}>` }],
              actions: [{ type: 'fileinto', folder: 'Hit' }],
            },
          ]);
          const result = runScript(parseScript(writeForms('', { rules: one })), message(`<${subject}>`));
          assert.ok(
            result.actions.some((a) => a.type === 'fileinto' && a.mailbox === 'Hit'),
            JSON.stringify(subject),
          );
        }
        assert.deepEqual(readForms(script).rules, form);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the forms section inside a hand-written script', () => {
  const handWritten = [
    '',
    'keep;',
    'require "fileinto";\nif header :contains "subject" "[list]" { fileinto "Lists"; }\n',
    '# my script\r\nrequire ["fileinto", "variables"];\r\n\r\n# sort it\r\nif true { fileinto "A"; }\r\n',
    'require "fileinto"; if true { fileinto "same-line"; }',
    'require "vacation";',
    'require "fileinto";\nfileinto text:\n# correo-forms end\n.\n;\n',
  ];

  test('written, read back and rewritten: the user part is kept byte for byte', () => {
    const first = {
      vacation: vacation({ body: 'Away\n.\n# correo-forms end\n..' }),
      rules: rules({ name: 'a', conditions: [], actions: [{ type: 'flag' }] }),
    };
    for (const user of handWritten) {
      const once = writeForms(user, first);
      parseScript(once);
      const read = readForms(once);
      assert.equal(read.userScript, user);
      assert.equal(read.edited, false);
      assert.deepEqual({ vacation: read.vacation, rules: read.rules }, first);
      const twice = writeForms(once, { rules: [] });
      assert.equal(readForms(twice).userScript, user);
      assert.deepEqual(readForms(twice).vacation, first.vacation, 'a form left out stays');
      assert.deepEqual(readForms(twice).rules, []);
    }
  });

  test("the forms run before the user's own commands, after the user's require", () => {
    const script = writeForms(handWritten[3]!, {
      rules: rules({ name: 'x', conditions: [], actions: [{ type: 'fileinto', folder: 'First' }] }),
    });
    assert.ok(
      script.startsWith(
        '# my script\r\nrequire ["fileinto", "variables"];\r\n\r\n# sort it\r\n# correo-forms v1',
      ),
    );
    const folders = runScript(parseScript(script), message('x')).actions.flatMap((a) =>
      a.type === 'fileinto' ? [a.mailbox] : [],
    );
    assert.deepEqual(folders, ['First', 'A']);
  });

  test('property: generated user scripts survive any sequence of form writes', () => {
    fc.assert(
      fc.property(
        fc.oneof(wellFormedScript, extendedScript),
        fc.boolean(),
        hostile(8),
        (user, enabled, body) => {
          let form: VacationForm;
          try {
            form = vacation({ enabled, body: `x${body}` });
          } catch {
            return;
          }
          const written = writeForms(user, { vacation: form });
          const read = readForms(written);
          assert.equal(read.userScript, user);
          assert.equal(read.edited, false);
          assert.deepEqual(read.vacation, form);
          const rewritten = writeForms(written, {
            rules: rules({ name: 'r', conditions: [], actions: [{ type: 'read' }] }),
          });
          assert.equal(readForms(rewritten).userScript, user);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a section edited by hand is reported, and replaced on the next write', () => {
    const script = writeForms('keep;\n', { vacation: vacation() });
    const edited = script.replace(':days 7', ':days 1');
    assert.equal(readForms(edited).edited, true);
    assert.equal(readForms(edited).vacation?.days, 7);
    assert.equal(writeForms(edited, {}), script);
    const garbled = script.replace('{"vacation"', '{"vacation"x');
    assert.deepEqual(readForms(garbled).vacation, null);
    assert.equal(readForms(garbled).edited, true);
    assert.equal(readForms(garbled).userScript, 'keep;\n');
  });

  test("the form's vacation next to the user's own vacation command is refused (both would fail the script)", () => {
    const own = 'require "vacation";\nif true { vacation "mine"; }\n';
    assert.throws(
      () => writeForms(own, { vacation: vacation() }),
      (error: unknown) => error instanceof FormError && error.details[0]?.field === 'vacation',
    );
    // Off, or only rules: fine.
    assert.equal(readForms(writeForms(own, { vacation: vacation({ enabled: false }) })).userScript, own);
    assert.equal(readForms(writeForms(own, { rules: [] })).userScript, own);
  });

  test('a new script never takes the name of an inactive one', () => {
    assert.equal(newScriptName([]), 'correo');
    assert.equal(newScriptName(['rules', 'correo']), 'correo-2');
    assert.equal(newScriptName(['correo', 'correo-2']), 'correo-3');
  });

  test('a user part that does not parse: a FormError with its line and column', () => {
    assert.throws(
      () => writeForms('require "fileinto";\nif true {\n  fileinto "x"\n}\n', { vacation: vacation() }),
      (error: unknown) =>
        error instanceof FormError && error.details[0]?.field === 'script' && error.details[0].line === 4,
    );
    assert.throws(() => readForms('keep; /* open'), FormError);
  });
});
