import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@correo/config';
import { SMTPServer } from 'smtp-server';
import { relayConfigSection } from '../src/config.js';
import { closeSession, openSession } from '../src/smtp-session.js';
import type { SessionSettings, SmtpTarget } from '../src/smtp-session.js';

// The remote MX: records the address each client session came from.
const peers: string[] = [];
let server: SMTPServer;
let port: number;

before(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(session, callback) {
      peers.push(session.remoteAddress);
      callback();
    },
  });
  port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const settings: SessionSettings = {
  ehloName: 'mx.source.test',
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 5_000,
};

function target(address: string): SmtpTarget {
  return { host: 'mx.far.test', address, port, requireTls: false };
}

async function peerOf(address: string, sourceAddress: string | undefined): Promise<string> {
  const before = peers.length;
  const session = await openSession(target(address), { ...settings, sourceAddress });
  await closeSession(session);
  assert.equal(peers.length, before + 1);
  return peers.at(-1)!;
}

test('RELAY_SOURCE_ADDRESS: unset by default, an IP when set, anything else refused', () => {
  assert.equal(loadConfig({}, { relay: relayConfigSection }).relay.sourceAddress, undefined);
  assert.equal(
    loadConfig({ RELAY_SOURCE_ADDRESS: ' 192.0.2.25 ' }, { relay: relayConfigSection }).relay.sourceAddress,
    '192.0.2.25',
  );
  assert.equal(
    loadConfig({ RELAY_SOURCE_ADDRESS: '2001:db8::25' }, { relay: relayConfigSection }).relay.sourceAddress,
    '2001:db8::25',
  );
  assert.throws(
    () => loadConfig({ RELAY_SOURCE_ADDRESS: 'mx.example.test' }, { relay: relayConfigSection }),
    (error: unknown) => error instanceof ConfigError && /RELAY_SOURCE_ADDRESS/.test(error.message),
  );
});

test('the remote MX sees the connection come from the configured source address', async () => {
  assert.equal(await peerOf('127.0.0.1', '127.0.0.2'), '127.0.0.2');
  assert.equal(await peerOf('127.0.0.1', '127.0.0.3'), '127.0.0.3');
  // Without it the OS picks: on loopback, the destination's own address.
  assert.equal(await peerOf('127.0.0.1', undefined), '127.0.0.1');
});

test('a source of the other address family is not forced onto the connection', async () => {
  // An IPv6 source cannot reach an IPv4 MX: that target is reached from the OS's choice instead.
  assert.equal(await peerOf('127.0.0.1', '::1'), '127.0.0.1');
});
