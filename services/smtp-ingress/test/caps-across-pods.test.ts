import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '@correo/line-server';
import { eventually, LineClient, uniqueName } from '@correo/testkit';
import type { SmtpIngress } from '../src/index.js';
import { startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

const listener = { address: '127.0.0.1', port: 25 };

// The per-address connection limit through the connection leases of the limits port: two ingress
// "pods" over one Redis (a key prefix of this file's own) count the same client together.
describe('smtp-ingress: connections per address across two pods sharing Redis', () => {
  let fixture: IngressFixture;
  const keyPrefix = `${uniqueName('smtp-caps')}:`;
  const sessions: LineClient[] = [];

  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await fixture?.stop();
  });

  async function pod(): Promise<SmtpIngress> {
    const { ingress } = await fixture.startRedisPod(
      keyPrefix,
      { SMTP_MAX_CONNECTIONS_PER_IP: '2' },
      { trustedProxies: ['127.0.0.0/8'] },
    );
    return ingress;
  }

  async function open(ingress: SmtpIngress, client: string): Promise<LineClient> {
    const header = encodeProxyHeader(2, { address: client, port: 40000 }, listener);
    const session = await LineClient.openSmtp(ingress.ports.mx, { preface: header });
    sessions.push(session);
    return session;
  }

  test('the third connection from one address is refused with 421 4.7.0 on either pod; QUIT frees a slot', async () => {
    const [a, b] = [await pod(), await pod()];
    const client = '198.51.100.70';
    const first = await open(a, client);
    assert.match(first.greeting, /^220 /);
    assert.match((await open(b, client)).greeting, /^220 /);
    for (const ingress of [a, b]) {
      const refused = await open(ingress, client);
      assert.equal(refused.greeting, '421 4.7.0 Too many connections from your address, try again later');
      assert.ok(await refused.closedWithin());
    }
    assert.match((await open(b, '198.51.100.71')).greeting, /^220 /, 'another address has its own limit');
    assert.match(await first.askSmtp('QUIT'), /^221 /);
    await eventually('the slot to be free on the other pod', async () => {
      const next = await open(b, client);
      next.destroy();
      return next.greeting.startsWith('220 ');
    });
  });
});
