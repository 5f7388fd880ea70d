import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authenticationResultsHeader,
  withoutForgedAuthenticationResults,
} from '../src/authentication-results.js';
import { dmarcRefusal } from '../src/dmarc-policy.js';
import type { SenderAuthentication } from '../src/sender-authentication.js';

describe('withoutForgedAuthenticationResults', () => {
  const ours = 'mx.local.test';

  test('drops fields claiming our authserv-id however they are spelled, folded or commented', () => {
    const header =
      'Authentication-Results: mx.local.test; dmarc=pass\r\n' +
      'authentication-results:MX.LOCAL.TEST;\r\n\tspf=pass\r\n' +
      'Authentication-Results: (forged) mx.local.test 1; dkim=pass\r\n' +
      'Authentication-Results:\r\n mx.local.test; none\r\n' +
      'Subject: hola\r\n';
    assert.equal(withoutForgedAuthenticationResults(header, ours), 'Subject: hola\r\n');
  });

  test("drops ARC-Authentication-Results naming us after its instance tag, keeps other sealers' ones", () => {
    const header =
      'ARC-Authentication-Results: i=1; mx.local.test; dkim=pass\r\n' +
      'arc-authentication-results:i = 2 ;\r\n (c) MX.Local.Test; spf=pass\r\n' +
      'ARC-Authentication-Results: i=1; relay.other.test; spf=pass\r\n' +
      'Subject: hola\r\n';
    assert.equal(
      withoutForgedAuthenticationResults(header, ours),
      'ARC-Authentication-Results: i=1; relay.other.test; spf=pass\r\nSubject: hola\r\n',
    );
  });

  test("keeps other hops' fields, look-alike ids and everything else byte for byte", () => {
    const header =
      'Received: from a\r\n\tby b\r\n' +
      'Authentication-Results: relay.other.test; spf=pass\r\n' +
      'Authentication-Results: mx.local.test.evil.test; spf=pass\r\n' +
      'X-Authentication-Results: mx.local.test; spf=pass\r\n' +
      'Subject: =?utf-8?q?caf=C3=A9?= \xe9\r\n';
    assert.equal(withoutForgedAuthenticationResults(header, ours), header);
  });
});

describe('authenticationResultsHeader', () => {
  test('one resinfo per line, long ones folded at spaces, never a bare line break', () => {
    const long = `spf=pass (${'x'.repeat(60)} ${'y'.repeat(60)}) smtp.mailfrom=a@b.test`;
    const header = authenticationResultsHeader('mx.local.test', [
      long,
      'dkim=none\r\n(injected)',
      'dmarc=pass',
    ]);
    assert.ok(header.startsWith('Authentication-Results: mx.local.test;\r\n\t'));
    assert.ok(header.endsWith('dmarc=pass\r\n'));
    for (const line of header.split('\r\n').slice(0, -1)) {
      assert.ok(line.length <= 110, line);
      assert.doesNotMatch(line, /[\r\n]/);
    }
    // Unfolding gives back each resinfo with its spaces.
    const unfolded = header.replace(/\r\n(?=[ \t])/g, '');
    assert.ok(unfolded.includes(`;\t${long};`), unfolded);
    assert.match(unfolded, /dkim=none \(injected\)/);
  });

  test('no results at all still makes a valid field', () => {
    assert.equal(
      authenticationResultsHeader('mx.local.test', []),
      'Authentication-Results: mx.local.test;\r\n\tnone\r\n',
    );
  });
});

describe('dmarcRefusal', () => {
  const auth = (result: string, policy: string, temporaryError = false): SenderAuthentication => ({
    results: [],
    header: '',
    dmarc: { result, domain: 'forged.test', policy },
    temporaryError,
  });

  test('p=reject failures are refused 550 5.7.1 when SMTP_DMARC_REJECT is on', () => {
    const reply = dmarcRefusal(auth('fail', 'reject'), true);
    assert.equal(reply?.responseCode, 550);
    assert.equal(reply?.message, '5.7.1 DMARC policy of forged.test rejects this message');
  });

  test('a p=reject failure that may come from a DNS error is deferred 451 4.7.0', () => {
    const reply = dmarcRefusal(auth('fail', 'reject', true), true);
    assert.equal(reply?.responseCode, 451);
    assert.match(reply!.message, /^4\.7\.0 /);
  });

  test('everything else is accepted', () => {
    assert.equal(dmarcRefusal(auth('fail', 'reject'), false), undefined, 'SMTP_DMARC_REJECT=false');
    assert.equal(dmarcRefusal(auth('fail', 'quarantine'), true), undefined);
    assert.equal(dmarcRefusal(auth('fail', 'none'), true), undefined);
    assert.equal(dmarcRefusal(auth('pass', 'reject'), true), undefined);
    assert.equal(dmarcRefusal(auth('temperror', ''), true), undefined);
    assert.equal(
      dmarcRefusal({ results: [], header: '', dmarc: undefined, temporaryError: false }, true),
      undefined,
    );
  });

  test('a From domain with reply-breaking characters cannot inject into the reply line', () => {
    const reply = dmarcRefusal(
      { ...auth('fail', 'reject'), dmarc: { result: 'fail', domain: 'x.test\r\n250 ok', policy: 'reject' } },
      true,
    );
    assert.doesNotMatch(reply!.message, /[\r\n ]ok|\r|\n/);
  });
});
