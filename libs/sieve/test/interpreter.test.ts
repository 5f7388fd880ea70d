import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageView, RunResult } from '../src/index.js';
import { SAMPLE_MESSAGE } from './arbitraries.js';
import { matches, parseScript, runScript, SieveRuntimeError } from '../src/index.js';

const MESSAGE = SAMPLE_MESSAGE;

const run = (script: string, message: MessageView = MESSAGE): RunResult =>
  runScript(parseScript(script), message);

describe('implicit keep (RFC 5228 2.10.2)', () => {
  test('an empty script keeps', () => assert.deepEqual(run('').actions, [{ type: 'keep' }]));
  test('fileinto cancels it, fileinto :copy does not', () => {
    assert.deepEqual(run('require "fileinto"; fileinto "A";').actions, [
      { type: 'fileinto', mailbox: 'A', copy: false, create: false },
    ]);
    assert.deepEqual(run('require ["fileinto", "copy"]; fileinto :copy "A";').actions, [
      { type: 'fileinto', mailbox: 'A', copy: true, create: false },
      { type: 'keep' },
    ]);
  });
  test('redirect cancels it, discard cancels it, stop keeps what happened so far', () => {
    assert.deepEqual(run('redirect "x@y";').actions, [{ type: 'redirect', address: 'x@y', copy: false }]);
    assert.deepEqual(run('discard;').actions, [{ type: 'discard' }]);
    assert.deepEqual(run('stop; discard;').actions, [{ type: 'keep' }]);
  });
  test('the same fileinto twice is done once', () => {
    assert.deepEqual(run('require "fileinto"; fileinto "A"; fileinto "A"; keep; keep;').actions, [
      { type: 'fileinto', mailbox: 'A', copy: false, create: false },
      { type: 'keep' },
    ]);
  });
});

describe('tests', () => {
  test('address parts across groups and quoted display names', () => {
    assert.deepEqual(run('if address :domain "to" "example.net" { discard; }').actions, [
      { type: 'discard' },
    ]);
    assert.deepEqual(run('if address :localpart "from" "boss" { discard; }').actions, [{ type: 'discard' }]);
    assert.deepEqual(run('if address :comparator "i;octet" :localpart "from" "boss" { discard; }').actions, [
      { type: 'keep' },
    ]);
  });
  test('address on a field that holds no addresses never matches', () => {
    assert.deepEqual(run('if address :contains "subject" "lunch" { discard; }').actions, [{ type: 'keep' }]);
  });
  test('envelope: the null reverse path matches "" with :all only', () => {
    const script = 'require "envelope"; if envelope :is "from" "" { discard; }';
    assert.deepEqual(run(script).actions, [{ type: 'discard' }]);
    assert.deepEqual(run(script.replace(':is', ':localpart :is')).actions, [{ type: 'keep' }]);
  });
  test('header :matches with ? and an escaped wildcard', () => {
    assert.deepEqual(run('if header :matches "subject" "Re: ????h\\\\?" { discard; }').actions, [
      { type: 'discard' },
    ]);
    assert.deepEqual(run('if header :matches "subject" "Re: lunc\\\\?" { discard; }').actions, [
      { type: 'keep' },
    ]);
  });
  test('size :over and :under are strict', () => {
    assert.deepEqual(run('if size :over 500 { discard; }').actions, [{ type: 'keep' }]);
    assert.deepEqual(run('if size :under 501 { discard; }').actions, [{ type: 'discard' }]);
  });
});

describe('imap4flags (RFC 5232)', () => {
  test('the internal variable goes onto keep and fileinto; :flags overrides it', () => {
    const result = run(`require ["imap4flags", "fileinto"];
      setflag "\\\\Seen \\\\Flagged"; addflag "\\\\seen $Work"; removeflag "\\\\flagged";
      fileinto "A"; fileinto :flags "\\\\Answered" "B";
      if hasflag :contains "work" { keep; }`);
    assert.deepEqual(result.actions, [
      { type: 'fileinto', mailbox: 'A', copy: false, create: false, flags: ['\\Seen', '$Work'] },
      { type: 'fileinto', mailbox: 'B', copy: false, create: false, flags: ['\\Answered'] },
      { type: 'keep', flags: ['\\Seen', '$Work'] },
    ]);
  });
});

describe('run-time errors fall back to keep (RFC 5228 2.10.6)', () => {
  test('too many redirects: a plain keep and the error', () => {
    const result = runScript(parseScript('redirect "a@x"; redirect "b@x"; redirect "c@x";'), MESSAGE, {
      maxRedirects: 2,
    });
    assert.deepEqual(result.actions, [{ type: 'keep' }]);
    assert.ok(result.error instanceof SieveRuntimeError);
    assert.match(result.error.message, /too many redirects/);
  });
  test('the same redirect repeated counts once against the limit', () => {
    const result = runScript(parseScript('redirect "a@x"; redirect "a@x"; redirect "a@x";'), MESSAGE, {
      maxRedirects: 1,
    });
    assert.deepEqual(result, { actions: [{ type: 'redirect', address: 'a@x', copy: false }] });
  });
  test('too many actions', () => {
    const script = 'require "fileinto";' + Array.from({ length: 40 }, (_, i) => `fileinto "f${i}";`).join('');
    const result = run(script);
    assert.deepEqual(result.actions, [{ type: 'keep' }]);
    assert.match(result.error?.message ?? '', /too many actions/);
  });
});

describe(':matches never backtracks exponentially', () => {
  test('a hostile pattern against a long value answers', () => {
    const value = 'a'.repeat(5000);
    assert.equal(matches(value, '*a*a*a*a*a*a*a*a*a*a*b', 'matches', 'i;octet'), false);
    assert.equal(matches(value, '*a*a*a*a*a*a*a*a*a*a', 'matches', 'i;octet'), true);
  });
  test('"?" is exactly one character, also at the start before a "*" (where Pigeonhole 2.3.19 differs)', () => {
    assert.equal(matches('The Boss', '?q*', 'matches', 'i;octet'), false);
    assert.equal(matches('The Boss', '?h*', 'matches', 'i;octet'), true);
    assert.equal(matches('', '?*', 'matches', 'i;octet'), false);
  });
  test('"?" is one octet of the UTF-8 text (octet comparators, as Pigeonhole)', () => {
    assert.equal(matches('pâte', 'p??te', 'matches', 'i;ascii-casemap'), true);
    assert.equal(matches('pâte', 'p?te', 'matches', 'i;ascii-casemap'), false);
    assert.equal(matches('😀', '????', 'matches', 'i;octet'), true);
    assert.equal(matches('xé', '*é', 'matches', 'i;octet'), true);
    assert.equal(matches('ÄB', 'äb', 'is', 'i;ascii-casemap'), false);
    assert.equal(matches('AB', 'ab', 'is', 'i;ascii-casemap'), true);
  });
});
