import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseScript, runScript, SieveSyntaxError } from '../src/index.js';
import { extendedScript, SAMPLE_MESSAGE, wellFormedScript } from './arbitraries.js';

const MESSAGE = SAMPLE_MESSAGE;

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

test('well-formed scripts parse and run', () => {
  fc.assert(
    fc.property(wellFormedScript, (source) => {
      const script = parseScript(source);
      const result = runScript(script, MESSAGE);
      assert.equal(result.error, undefined);
      assert.ok(result.actions.length > 0);
    }),
    { numRuns: 500 },
  );
});

test('scripts with variables, relational and date parse and run, on any body/spam/date view', () => {
  const view = fc.record({
    spam: fc.option(fc.record({ score: fc.double({ noNaN: true }), max: fc.double({ noNaN: true }) }), {
      nil: undefined,
    }),
    date: fc.string({ maxLength: 40 }),
    zone: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(extendedScript, view, (source, extra) => {
      const script = parseScript(source);
      const message = {
        ...MESSAGE,
        headers: [...MESSAGE.headers, { name: 'Date', value: extra.date }],
        ...(extra.spam ? { spam: extra.spam } : {}),
        ...(extra.zone === undefined ? {} : { zone: extra.zone }),
      };
      const result = runScript(script, message);
      assert.equal(result.error, undefined);
      assert.ok(result.actions.length > 0);
    }),
    { numRuns: 500 },
  );
});
