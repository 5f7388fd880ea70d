import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { hasRelayAddressing, parseMailAddress } from '../../src/address.js';
import { receivedHeader } from '../../src/received-header.js';

/**
 * The envelope values a client controls (HELO name, MAIL FROM and RCPT TO addresses), through our
 * address split and into the Received header. Input: NUL-separated fields.
 */
export default fuzzTarget({
  coverage: ['/smtp-ingress/src/'],
  maxInputBytes: 2048,
  dictionary: [
    '\0',
    '@',
    '%',
    '!',
    '[',
    ']',
    '.',
    'xn--',
    'postmaster',
    'ÿ',
    '\r\n',
    '(',
    ')',
    '<',
    '>',
    ';',
  ],
  run(input) {
    const [helo = '', from = '', ...recipients] = input.toString('utf8').split('\0');
    for (const raw of [from, ...recipients]) {
      const parsed = parseMailAddress(raw);
      if (!parsed) continue;
      assert.match(parsed.domain, /^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a domain is lowercase ASCII labels');
      assert.equal(parsed.address, `${parsed.localPart}@${parsed.domain}`);
      assert.ok(parsed.localPart.length > 0);
      hasRelayAddressing(parsed.localPart);
    }
    const header = receivedHeader({
      helo,
      clientIp: from,
      clientHostname: recipients[1] ?? '',
      hostname: 'mx.local.test',
      protocol: 'ESMTPS',
      id: 'id',
      recipients: recipients.slice(0, 1),
      tls: recipients[2],
      receivedAt: new Date(0),
    });
    // One field: it starts with Received:, every continuation line is folded, it ends with its CRLF.
    assert.ok(header.startsWith('Received: ') && header.endsWith('\r\n'));
    const lines = header.slice(0, -2).split('\r\n');
    assert.ok(
      lines.slice(1).every((line) => line.startsWith('\t')),
      'client text cannot start a header field',
    );
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(header), 'no bare line end from client text');
  },
});
