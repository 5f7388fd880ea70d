import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { parseScript, runScript, SieveSyntaxError } from '../../src/index.js';
import { SAMPLE_MESSAGE } from '../arbitraries.js';

/**
 * A user's uploaded script: parseScript answers SieveSyntaxError (with a position inside the
 * script) or a script, which then runs against a message without throwing. Anything else thrown
 * is a finding.
 */

export default fuzzTarget({
  coverage: ['/sieve/src/'],
  maxInputBytes: 8 * 1024,
  allocation: { floorBytes: 16 * 1024 * 1024, perInputByte: 4096 },
  dictionary: [
    'require ["fileinto", "envelope", "copy", "imap4flags"];',
    'if ',
    'elsif ',
    'else ',
    '{ ',
    '}',
    ';',
    '(',
    ')',
    '[',
    ']',
    ',',
    '"',
    '\\',
    'text:\r\n',
    '\r\n.\r\n',
    '/*',
    '*/',
    '#',
    ':is',
    ':contains',
    ':matches',
    ':comparator "i;octet"',
    ':localpart',
    ':domain',
    ':all',
    ':over',
    ':under',
    ':copy',
    ':flags',
    'header ',
    'address ',
    'envelope ',
    'exists ',
    'size ',
    'allof',
    'anyof',
    'not ',
    'true',
    'false',
    'keep',
    'discard',
    'stop',
    'fileinto ',
    'redirect ',
    'setflag ',
    'addflag ',
    'removeflag ',
    'hasflag ',
    '10K',
    '*?',
  ],
  run(input) {
    const source = input.toString('utf8');
    let script;
    try {
      script = parseScript(source, { maxNesting: 16 });
    } catch (error) {
      if (!(error instanceof SieveSyntaxError)) throw error;
      assert.ok(error.line >= 1 && error.column >= 1, 'the error has a position');
      assert.ok(error.line <= source.split('\n').length, 'the error line is inside the script');
      return;
    }
    const result = runScript(script, SAMPLE_MESSAGE);
    assert.ok(result.actions.length > 0, 'a run always ends in at least one action');
  },
});
