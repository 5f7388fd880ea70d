import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientBlock, clientNetwork } from '../src/index.js';

test('clientBlock: an IPv4 /24, an IPv6 /64, mapped addresses as IPv4, anything else as itself', () => {
  assert.equal(clientBlock('198.51.100.77'), '198.51.100.0/24');
  assert.equal(clientBlock('::ffff:198.51.100.77'), '198.51.100.0/24');
  assert.equal(clientBlock('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientBlock('2001:db8:1:2::9'), clientNetwork('2001:db8:1:2::1'));
  assert.equal(clientBlock('not-an-ip'), 'not-an-ip');
});
