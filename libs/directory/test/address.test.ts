import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_ADDRESS_LENGTH,
  MAX_LOCAL_PART_LENGTH,
  normaliseAddress,
  normaliseDomain,
  parseAddress,
  parseAliasSource,
  splitSubaddress,
} from '../src/index.js';

const LDH_DOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const octets = (s: string) => Buffer.byteLength(s, 'utf8');

const atext = fc.constantFrom(..."abcXYZ019!#$%&'*+-/=?^_`{|}~ñé".split(''));
const atom = fc.string({ unit: atext, minLength: 1, maxLength: 8 });
const dotAtom = fc.array(atom, { minLength: 1, maxLength: 4 }).map((atoms) => atoms.join('.'));
const unicodeLabel = fc.string({
  unit: fc.constantFrom(...'abcdeüñößé'.split('')),
  minLength: 1,
  maxLength: 10,
});

describe('address syntax (properties)', () => {
  test('never throws, and whatever it accepts respects RFC 5321 lengths and an LDH domain', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (input) => {
        const parsed = parseAddress(input);
        if (!parsed.ok) return assert.equal(typeof parsed.error, 'string');
        assert.ok(octets(parsed.value.address) <= MAX_ADDRESS_LENGTH);
        assert.ok(octets(parsed.value.localPart) <= MAX_LOCAL_PART_LENGTH);
        assert.match(parsed.value.domain, LDH_DOMAIN);
      }),
      { numRuns: 2000 },
    );
  });

  test('every address fast-check considers valid is accepted, and normalising is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (input) => {
        const parsed = parseAddress(input);
        if (octets(input) > MAX_ADDRESS_LENGTH) return assert.equal(parsed.ok, false);
        assert.ok(parsed.ok, `${input}: ${parsed.ok ? '' : parsed.error}`);
        assert.equal(normaliseAddress(parsed.value.address), parsed.value.address);
        assert.equal(parsed.value.domain, input.slice(input.lastIndexOf('@') + 1).toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });

  test('dot-atom local parts are kept as written, domains are lowercased', () => {
    fc.assert(
      fc.property(dotAtom, fc.domain(), (local, domain) => {
        const parsed = parseAddress(`${local}@${domain.toUpperCase()}`);
        if (octets(local) > MAX_LOCAL_PART_LENGTH || octets(`${local}@${domain}`) > MAX_ADDRESS_LENGTH) {
          return assert.equal(parsed.ok, false);
        }
        assert.ok(parsed.ok);
        assert.equal(parsed.value.localPart, local);
        assert.equal(parsed.value.domain, domain.toLowerCase());
      }),
    );
  });

  test('quoting a dot-atom changes nothing; other quoted strings survive a round trip', () => {
    fc.assert(
      fc.property(dotAtom, (local) => {
        fc.pre(octets(local) <= MAX_LOCAL_PART_LENGTH);
        assert.equal(normaliseAddress(`"${local}"@example.test`), `${local}@example.test`);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'ab "\\.@,'.split('')), minLength: 1, maxLength: 20 }),
        (text) => {
          const quoted = `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"@example.test`;
          const first = normaliseAddress(quoted);
          assert.ok(first, quoted);
          assert.equal(normaliseAddress(first), first);
        },
      ),
    );
  });

  test('an IDN domain and its punycode normalise to the same address', () => {
    fc.assert(
      fc.property(fc.array(unicodeLabel, { minLength: 1, maxLength: 3 }), (labels) => {
        const unicode = [...labels, 'test'].join('.');
        const ascii = normaliseDomain(unicode);
        assert.ok(ascii, unicode);
        assert.match(ascii, LDH_DOMAIN);
        assert.equal(normaliseAddress(`u@${unicode}`), `u@${ascii}`);
        assert.equal(normaliseAddress(`u@${ascii}`), `u@${ascii}`);
      }),
    );
  });

  test('local parts over 64 octets and addresses over 254 are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 200 }), (length) => {
        assert.equal(parseAddress(`${'a'.repeat(length)}@example.test`).ok, false);
      }),
    );
    assert.equal(parseAddress(`${'a'.repeat(64)}@example.test`).ok, true);
    const longDomain = `${Array.from({ length: 4 }, () => 'd'.repeat(60)).join('.')}.test`;
    assert.equal(parseAddress(`${'a'.repeat(10)}@${longDomain}`).ok, false);
    assert.equal(parseAddress(`a@${'d'.repeat(64)}.test`).ok, false);
  });
});

describe('address syntax (examples)', () => {
  const invalid = [
    '',
    'plain',
    '@example.test',
    'user@',
    '.user@example.test',
    'user.@example.test',
    'us..er@example.test',
    'us er@example.test',
    'user@exa mple.test',
    'user@-example.test',
    'user@example-.test',
    'user@example..test',
    'user@example.test.',
    'user@[127.0.0.1]',
    'user@127.0.0.1',
    'user@0x7f.1',
    'user@ex%41mple.test',
    'user@exa_mple.test',
    '@a,@b:user@c.test',
    'a@b@example.test',
    '"unterminated@example.test',
    '"bad"quote"@example.test',
    '"ctl\u0001"@example.test',
    'user\n@example.test',
    '<user@example.test>',
  ];
  for (const input of invalid) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      const parsed = parseAddress(input);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.error.length > 0);
    });
  }

  const valid: [string, string][] = [
    ['User.Name+tag@Example.TEST', 'User.Name+tag@example.test'],
    ["o'brien@example.test", "o'brien@example.test"],
    ['user%other.test@example.test', 'user%other.test@example.test'],
    ['"john doe"@example.test', '"john doe"@example.test'],
    ['"a@b"@example.test', '"a@b"@example.test'],
    ['"plain"@example.test', 'plain@example.test'],
    ['"esc\\"aped"@example.test', '"esc\\"aped"@example.test'],
    ['josé@bücher.test', 'josé@xn--bcher-kva.test'],
    ['用户@例子.测试', '用户@xn--fsqu00a.xn--0zwm56d'],
    ['x@localhost', 'x@localhost'],
  ];
  for (const [input, expected] of valid) {
    test(`normalises ${JSON.stringify(input)}`, () => {
      assert.equal(normaliseAddress(input), expected);
    });
  }

  test('subaddresses split at the first +, never in quoted local parts', () => {
    assert.deepEqual(splitSubaddress('user+tag+more'), { base: 'user', tag: 'tag+more' });
    assert.deepEqual(splitSubaddress('user+'), { base: 'user', tag: '' });
    assert.equal(splitSubaddress('+tag'), null);
    assert.equal(splitSubaddress('user'), null);
    assert.equal(splitSubaddress('"a+b"'), null);
  });

  test('alias sources are exact addresses or @domain catch-alls', () => {
    assert.deepEqual(parseAliasSource('@Bücher.test'), {
      ok: true,
      value: { kind: 'catch-all', domain: 'xn--bcher-kva.test' },
    });
    const exact = parseAliasSource('Sales@Example.test');
    assert.equal(
      exact.ok && exact.value.kind === 'address' && exact.value.address.address,
      'Sales@example.test',
    );
    assert.equal(parseAliasSource('@').ok, false);
    assert.equal(parseAliasSource('@@example.test').ok, false);
  });
});
