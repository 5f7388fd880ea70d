import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import type { MessageView, Rule, VacationForm } from '../../src/index.js';
import {
  FormError,
  parseRules,
  parseScript,
  parseVacationForm,
  readForms,
  runScript,
  writeForms,
} from '../../src/index.js';

/**
 * What a user types into the rules and vacation forms (fields split by NUL: reply subject, reply text,
 * rule name, subject value, folder, forward address) around a hand-written script: the forms take it
 * or refuse it with a FormError, and what they write parses, does only what the forms say (user text
 * never becomes a command), and reads back exactly, the hand-written part byte for byte.
 */

// Hand-written parts with their own folders, so their actions are known.
const USER_SCRIPTS = [
  '',
  'require "fileinto";\nif header :contains "subject" "[list]" { fileinto "Lists"; }\n',
  '# mine\r\nrequire ["fileinto", "variables"];\r\nfileinto "Own";\r\n',
  'require "fileinto"; fileinto text:\n.. dots\n.\n;',
];
const USER_FOLDERS = new Set(['Lists', 'Own', '. dots\r\n']);

export default fuzzTarget({
  coverage: ['/sieve/src/forms.ts', '/sieve/src/lexer.ts'],
  maxInputBytes: 4 * 1024,
  allocation: { floorBytes: 32 * 1024 * 1024, perInputByte: 8192 },
  dictionary: [
    '\0',
    '"',
    '\\',
    '\n.\n',
    '\r\n',
    '.',
    '#',
    '/*',
    '*/',
    '${',
    '}',
    ';',
    'text:',
    '# correo-forms end',
    '# correo-forms v1 {}',
    '@',
    '*',
    '?',
  ],
  run(input) {
    const [subject = '', body = '', name = '', value = '', folder = '', address = ''] = input
      .toString('utf8')
      .split('\0');
    const user = USER_SCRIPTS[input.length % USER_SCRIPTS.length]!;
    let vacation: VacationForm;
    let rules: Rule[];
    try {
      vacation = parseVacationForm({ enabled: true, subject, body: `x${body}` });
      rules = parseRules([
        {
          name: `r${name}`,
          conditions: [{ field: 'subject', match: 'contains', value }],
          actions: [
            { type: 'fileinto', folder: `F${folder}` },
            { type: 'read' },
            ...(address ? [{ type: 'redirect', address, copy: true }] : []),
          ],
        },
      ]);
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      return;
    }
    const forms = { vacation, rules };
    const script = writeForms(user, forms);
    const read = readForms(script);
    assert.equal(read.userScript, user);
    assert.equal(read.edited, false);
    assert.deepEqual({ vacation: read.vacation, rules: read.rules }, forms);
    const message: MessageView = {
      headers: [
        { name: 'To', value: 'me@example.org' },
        { name: 'Subject', value: `[list] ${value}` },
      ],
      envelope: { from: 'alice@example.com', to: 'me@example.org' },
      size: 100,
    };
    const { actions, error } = runScript(parseScript(script), message);
    assert.equal(error, undefined);
    for (const action of actions) {
      switch (action.type) {
        case 'keep':
          break;
        case 'fileinto':
          assert.ok(action.mailbox === `F${folder}` || USER_FOLDERS.has(action.mailbox), action.mailbox);
          break;
        case 'redirect':
          assert.equal(action.address, address);
          break;
        case 'vacation':
          assert.equal(action.subject, subject || action.subject);
          assert.ok(action.reason.startsWith('x'));
          break;
        default:
          assert.fail(`an action the forms never write: ${action.type}`);
      }
    }
  },
});
