import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { encodeProxyHeader } from '@correo/line-server';
import { LineClient } from '@correo/testkit';
import { loadConfig } from '@correo/config';
import { smtpIngressSection } from '../src/index.js';
import { USER, startIngressFixture, testEnv, type IngressFixture } from './support/ingress-fixture.js';

const listener = { address: '127.0.0.1', port: 25 };

/** One message to a local account over MX; returns the stored Received header and the event's client. */
async function deliver(
  fixture: IngressFixture,
  session: LineClient,
  subject: string,
): Promise<{ received: string; clientIp: string }> {
  assert.match(session.greeting, /^220 /);
  assert.match(await session.askSmtp('EHLO client.example'), /^250/);
  assert.match(await session.askSmtp('MAIL FROM:<someone@remote.example>'), /^250/);
  assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250/);
  assert.match(await session.askSmtp('DATA'), /^354/);
  const done = await session.askSmtp(`Subject: ${subject}\r\n\r\nhello\r\n.`);
  assert.match(done, /^250 /);
  const id = /queued as (\S+)/.exec(done)![1]!;
  let found: Awaited<ReturnType<IngressFixture['waitForEvents']>>[number] | undefined;
  for (let count = 1; !found; count++) {
    found = (await fixture.waitForEvents(count)).find((e) => e.event.eventId === id);
  }
  const stored = (await fixture.storedBytes(found.event)).toString('latin1');
  const received = /^Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*/.exec(stored)![0];
  return { received, clientIp: found.event.clientIp };
}

describe('smtp-ingress behind a load balancer (PROXY protocol)', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('v2 and v1 headers from a trusted balancer: Received and the event name the client behind it', async () => {
    const ingress = await fixture.startIngress({ trustedProxies: ['127.0.0.0/8'] });
    try {
      for (const [version, client] of [
        [2, '203.0.113.50'],
        [1, '198.51.100.51'],
      ] as const) {
        const header = encodeProxyHeader(version, { address: client, port: 40000 }, listener);
        const session = await LineClient.openSmtp(ingress.ports.mx, { preface: header });
        try {
          const { received, clientIp } = await deliver(fixture, session, `via v${version}`);
          assert.ok(received.includes(`[${client}]`), received);
          assert.equal(clientIp, client);
        } finally {
          session.destroy();
        }
      }
    } finally {
      await ingress.close();
    }
  });

  test('the per-IP connection limit counts the client behind the balancer, not the balancer', async () => {
    const config = loadConfig(testEnv({ SMTP_MAX_CONNECTIONS_PER_IP: '1' }), {
      smtp: smtpIngressSection,
    }).smtp;
    const ingress = await fixture.startIngress({ config, trustedProxies: ['127.0.0.0/8'] });
    const sessions: LineClient[] = [];
    const open = async (client: string) => {
      const header = encodeProxyHeader(2, { address: client, port: 40000 }, listener);
      const session = await LineClient.openSmtp(ingress.ports.mx, { preface: header });
      sessions.push(session);
      return session.greeting;
    };
    try {
      // All three arrive from 127.0.0.1 (the balancer); only the second client's repeat is over its limit.
      assert.match(await open('203.0.113.60'), /^220 /);
      assert.match(await open('203.0.113.61'), /^220 /);
      assert.match(await open('203.0.113.60'), /^421 /);
    } finally {
      for (const session of sessions) session.destroy();
      await ingress.close();
    }
  });

  test('implicit TLS (465) behind a trusted balancer: the handshake follows the header', async () => {
    const ingress = await fixture.startIngress({ trustedProxies: ['127.0.0.0/8'] });
    const raw = connect({ host: '127.0.0.1', port: ingress.ports.submissions });
    try {
      await once(raw, 'connect');
      raw.write(encodeProxyHeader(2, { address: '203.0.113.52', port: 40000 }, listener));
      const secured = connectTls({ socket: raw, ca: fixture.tls.cert, servername: 'mx.local.test' });
      secured.on('error', () => {});
      const [greeting] = (await once(secured, 'data')) as [Buffer];
      assert.match(greeting.toString('latin1'), /^220 /);
      secured.destroy();
    } finally {
      raw.destroy();
      await ingress.close();
    }
  });

  test('an untrusted peer keeps its own address, whatever PROXY line it sends', async () => {
    const ingress = await fixture.startIngress({ trustedProxies: ['10.0.0.0/8'] });
    try {
      const session = await LineClient.openSmtp(ingress.ports.mx);
      try {
        assert.match(await session.askSmtp('PROXY TCP4 203.0.113.66 127.0.0.1 1 25'), /^5\d\d /);
        const { received, clientIp } = await deliver(fixture, session, 'direct');
        assert.ok(received.includes('[127.0.0.1]'), received);
        assert.equal(clientIp, '127.0.0.1');
      } finally {
        session.destroy();
      }
    } finally {
      await ingress.close();
    }
  });
});
