import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@correo/config';
import { relayConfigSection } from '../src/config.js';
import { DestinationPolicy, parseTransportMap } from '../src/destinations.js';

// Judged only, never connected to: a test here must not send traffic to private ranges.
const NON_PUBLIC = [
  '127.0.0.1',
  '127.8.9.10',
  '0.0.0.0',
  '10.1.2.3',
  '172.16.0.1',
  '172.31.255.254',
  '192.168.1.1',
  '169.254.169.254', // cloud metadata
  '100.64.0.1', // carrier-grade NAT
  '224.0.0.1',
  '255.255.255.255',
  '240.0.0.1',
  '::',
  '::1',
  'fe80::1',
  'fd00::25',
  'fc00::1',
  '::ffff:127.0.0.1',
  '::ffff:10.0.0.1',
  'ff02::1',
  '2002:7f00:1::1', // 6to4 wrapping 127.0.0.1
  'not an address',
];
const PUBLIC = [
  '8.8.8.8',
  '93.184.216.34',
  '172.32.0.1',
  '192.169.0.1',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
];

test('only public unicast addresses are permitted by default', () => {
  const policy = new DestinationPolicy([]);
  for (const address of NON_PUBLIC) assert.equal(policy.permits(address), false, address);
  for (const address of PUBLIC) assert.equal(policy.permits(address), true, address);
});

test('RELAY_ALLOWED_NETWORKS opens exactly the listed networks', () => {
  const policy = new DestinationPolicy(['127.0.0.0/8', 'fd00::/8']);
  assert.equal(policy.permits('127.0.0.9'), true);
  assert.equal(policy.permits('::ffff:127.0.0.9'), true);
  assert.equal(policy.permits('fd00::25'), true);
  assert.equal(policy.permits('::1'), false);
  assert.equal(policy.permits('10.0.0.1'), false);
  assert.equal(policy.permits('169.254.169.254'), false);
});

test('RELAY_TRANSPORT_MAP: domain=host[:port] entries', () => {
  assert.deepEqual(
    parseTransportMap('Partner.test=10.0.0.25:2525, lab.test=mx.lab.internal ,v6.test=[fd00::25]:25'),
    new Map([
      ['partner.test', { host: '10.0.0.25', port: 2525 }],
      ['lab.test', { host: 'mx.lab.internal', port: undefined }],
      ['v6.test', { host: 'fd00::25', port: 25 }],
    ]),
  );
  assert.deepEqual(parseTransportMap(''), new Map());
  for (const bad of [
    'partner.test',
    'a.test=',
    'a.test=h:0',
    'a.test=h:70000',
    'a.test=fd00::1',
    'a.test=[x]:25',
  ]) {
    assert.equal(parseTransportMap(bad), undefined, bad);
  }
});

test('RELAY_TRANSPORT_MAP, RELAY_ALLOWED_NETWORKS, RELAY_ATTEMPT_TIMEOUT and RELAY_CLAIM_LEASE from the environment', () => {
  const relay = loadConfig(
    {
      RELAY_TRANSPORT_MAP: 'partner.test=10.0.0.25:2525',
      RELAY_ALLOWED_NETWORKS: '127.0.0.0/8, fd00::/8',
      RELAY_ATTEMPT_TIMEOUT: '10m',
      RELAY_CLAIM_LEASE: '45s',
    },
    { relay: relayConfigSection },
  ).relay;
  assert.deepEqual(relay.transportMap.get('partner.test'), { host: '10.0.0.25', port: 2525 });
  assert.deepEqual(relay.allowedNetworks, ['127.0.0.0/8', 'fd00::/8']);
  assert.equal(relay.attemptTimeoutMs, 600_000);
  // The claim is short and renewed while the attempt runs (claim-heartbeat.ts), whatever its deadline.
  assert.equal(relay.claimLeaseMs, 45_000);
  const defaults = loadConfig({}, { relay: relayConfigSection }).relay;
  assert.equal(defaults.claimLeaseMs, 60_000);
  assert.deepEqual(defaults.allowedNetworks, []);
  assert.equal(defaults.transportMap.size, 0);

  assert.throws(
    () =>
      loadConfig(
        {
          RELAY_TRANSPORT_MAP: 'partner.test',
          RELAY_ALLOWED_NETWORKS: '10.0.0.0',
          RELAY_ATTEMPT_TIMEOUT: 'soon',
          RELAY_CLAIM_LEASE: '100ms',
        },
        { relay: relayConfigSection },
      ),
    (error: unknown) =>
      error instanceof ConfigError &&
      ['RELAY_TRANSPORT_MAP', 'RELAY_ALLOWED_NETWORKS', 'RELAY_ATTEMPT_TIMEOUT', 'RELAY_CLAIM_LEASE'].every(
        (name) => error.message.includes(name),
      ),
  );
});
