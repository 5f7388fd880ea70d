import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { parseAddress } from '@correo/directory';
import { hasRelayAddressing } from '../../src/address.js';
import { receivedHeader } from '../../src/received-header.js';

/**
 * The envelope values a client controls (HELO name, MAIL FROM and RCPT TO addresses), through the
 * directory's address parser that MAIL and RCPT use, and into the Received header. Input:
 * NUL-separated fields.
 */
export default fuzzTarget({
  coverage: ['/smtp-ingress/src/', '/directory/src/address'],
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
      const parsed = parseAddress(raw);
      if (!parsed.ok) {
        assert.ok(parsed.error.length > 0, 'a refused address says why (the 501 text)');
        continue;
      }
      const { address, localPart, domain } = parsed.value;
      assert.match(domain, /^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a domain is lowercase ASCII labels');
      assert.equal(address, `${localPart}@${domain}`);
      // The event carries this canonical form and the mda parses it again: it must come back the same.
      const again = parseAddress(address);
      assert.ok(again.ok && again.value.address === address, `canonical form is stable: ${address}`);
      hasRelayAddressing(localPart);
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
