import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TrustedProxies, encodeProxyHeader, looksLikeProxyHeader, parseProxyHeader } from '../src/index.js';

const listener = { address: '192.0.2.1', port: 993 };
const listener6 = { address: '2001:db8::53', port: 993 };

describe('PROXY header', () => {
  test('v2 and v1, IPv4 and IPv6: the source, and the exact length (what follows stays unread)', () => {
    for (const version of [1, 2] as const) {
      for (const [source, destination] of [
        [{ address: '203.0.113.7', port: 40001 }, listener],
        [{ address: '2001:db8::7', port: 40002 }, listener6],
      ] as const) {
        const header = encodeProxyHeader(version, source, destination);
        const parsed = parseProxyHeader(Buffer.concat([header, Buffer.from('\x16\x03\x01 ClientHello')]));
        assert.deepEqual(
          parsed,
          { kind: 'header', length: header.length, source },
          `v${version} ${source.address}`,
        );
        for (let cut = 0; cut < header.length; cut++) {
          assert.equal(
            parseProxyHeader(header.subarray(0, cut)).kind,
            'incomplete',
            `v${version} cut at ${cut}`,
          );
        }
      }
    }
  });

  test('v2 LOCAL and v1 UNKNOWN carry no client: the peer stands', () => {
    const local = encodeProxyHeader(2, { address: '203.0.113.7', port: 1 }, listener);
    local[12] = 0x20;
    assert.deepEqual(parseProxyHeader(local), { kind: 'header', length: local.length, source: undefined });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
      kind: 'header',
      length: 15,
      source: undefined,
    });
  });

  test('malformed headers are refused, never guessed at', () => {
    const badVersion = encodeProxyHeader(2, { address: '203.0.113.7', port: 1 }, listener);
    badVersion[12] = 0x11;
    const udp = encodeProxyHeader(2, { address: '203.0.113.7', port: 1 }, listener);
    udp[13] = 0x12;
    const huge = encodeProxyHeader(2, { address: '203.0.113.7', port: 1 }, listener);
    huge.writeUInt16BE(60000, 14);
    for (const data of [
      badVersion,
      udp,
      huge,
      Buffer.from('PROXY TCP4 203.0.113.999 192.0.2.1 1 2\r\n'),
      Buffer.from('PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n'),
      Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 1 70000\r\n'),
      Buffer.from(`PROXY ${'x'.repeat(120)}`),
      Buffer.from('A001 LOGIN a b\r\n'),
    ]) {
      assert.equal(parseProxyHeader(data).kind, 'invalid', JSON.stringify(data.toString('latin1')));
    }
  });

  test('what looks like a header, from its first octets', () => {
    assert.ok(looksLikeProxyHeader(Buffer.from('PROXY TCP4 ')));
    assert.ok(looksLikeProxyHeader(Buffer.from('PRO')));
    assert.ok(
      looksLikeProxyHeader(
        encodeProxyHeader(2, { address: '203.0.113.7', port: 1 }, listener).subarray(0, 5),
      ),
    );
    assert.ok(!looksLikeProxyHeader(Buffer.from('CAPA\r\n')));
    assert.ok(!looksLikeProxyHeader(Buffer.from('A1 NOOP\r\n')));
  });

  test('trusted peers by CIDR, IPv4-mapped addresses included', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '192.0.2.10', 'fd00::/8']);
    assert.ok(trusted.trusts('10.1.2.3'));
    assert.ok(trusted.trusts('::ffff:10.1.2.3'));
    assert.ok(trusted.trusts('192.0.2.10'));
    assert.ok(trusted.trusts('fd12::1'));
    assert.ok(!trusted.trusts('192.0.2.11'));
    assert.ok(!trusted.trusts('11.0.0.1'));
    assert.ok(!trusted.trusts('2001:db8::1'));
    assert.ok(!new TrustedProxies([]).trusts('127.0.0.1'));
  });
});
