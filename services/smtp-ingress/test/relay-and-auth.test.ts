import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { pythonSmtp, queuedId, swaks, swaksAuth } from '@correo/testkit';
import {
  OTHER_USER,
  PASSWORD,
  USER,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

const plainAuth = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');

const RELAY_DENIED: [number, string] = [554, '5.7.1 Relay access denied'];
const ROUTING_DENIED: [number, string] = [
  554,
  '5.7.1 Relay access denied: % and ! addressing are not accepted',
];

// smtp-server's own reply to an address it cannot parse.
const BAD_SYNTAX: [number, string] = [501, '5.1.3 Error: Bad recipient address syntax'];

/** Every way of asking port 25 to relay, with the whole reply it must get (the README table). */
const relayTricks: [string, string, [number, string]][] = [
  ['foreign recipient', '<el@suemail.test>', RELAY_DENIED],
  ['percent hack', '<el%suemail.test@local.test>', ROUTING_DENIED],
  ['bang path', '<suemail.test!el@local.test>', ROUTING_DENIED],
  ['source route to a foreign domain', '<@a.test,@b.test:el@suemail.test>', RELAY_DENIED],
  ['quoted local part containing @', '<"el@suemail.test"@local.test>', BAD_SYNTAX],
  ['unknown domain', '<nadie@unknown.test>', RELAY_DENIED],
  ['address literal', '<yo@[127.0.0.1]>', RELAY_DENIED],
  ['unknown local user', '<nadie@local.test>', [550, '5.1.1 Recipient address rejected: no such user here']],
  ['empty address', '<>', BAD_SYNTAX],
  ['missing angle brackets', 'yo@local.test', BAD_SYNTAX],
  ['unclosed angle bracket', '<yo@local.test', BAD_SYNTAX],
  ['two @', '<yo@@local.test>', BAD_SYNTAX],
  ['no domain', '<yo@>', BAD_SYNTAX],
];

describe('no open relay and AUTH only over TLS', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture();
  });
  after(async () => {
    await fixture?.stop();
  });

  test('the relay-trick table is refused on the MX port', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.mx,
      mode: 'plain',
      commands: [
        'MAIL FROM:<someone@remote.test>',
        ...relayTricks.map(([, address]) => `RCPT TO:${address}`),
        'RCPT TO:<@relay.test:yo@local.test>',
      ],
    });
    assert.equal(result.error, undefined);
    const [mail, ...rest] = result.replies;
    assert.deepEqual(mail, [250, '2.1.0 Accepted']);
    relayTricks.forEach(([name, , expected], i) => assert.deepEqual(rest[i], expected, name));
    // A source route to a local address is ignored (RFC 5321 appendix C): the local user gets it.
    assert.deepEqual(rest[relayTricks.length], [250, '2.1.5 Accepted']);
  });

  test('swaks cannot relay through port 25 and nothing is published', async () => {
    const before = fixture.events.length;
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.mx),
      '--from',
      'spammer@remote.test',
      '--to',
      'victim@suemail.test',
    ]);
    assert.notEqual(run.exitCode, 0);
    assert.ok(run.replies.includes('554 5.7.1 Relay access denied'), run.output);
    await fixture.expectNothingPublishedSince(before);
  });

  test('AUTH and MAIL before STARTTLS are refused on 587', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'plain',
      commands: [`AUTH PLAIN ${plainAuth}`, 'AUTH LOGIN', `MAIL FROM:<${USER}>`],
    });
    const mustStartTls: [number, string] = [530, '5.7.0 Must issue a STARTTLS command first'];
    assert.deepEqual(result.replies, [
      mustStartTls,
      mustStartTls,
      [530, '5.7.0 Error: authentication Required'],
    ]);
  });

  test('a wrong password is refused with 535 5.7.8', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'starttls',
      user: USER,
      password: 'wrong',
    });
    assert.deepEqual(result.replies.at(-1), [535, '5.7.8 Authentication credentials invalid']);
  });

  test('the envelope sender must belong to the authenticated account: 553 5.7.1', async () => {
    const before = fixture.events.length;
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.submission),
      '--tls',
      '--auth',
      'LOGIN',
      '--auth-user',
      USER,
      '--auth-password',
      PASSWORD,
      '--from',
      OTHER_USER,
      '--to',
      'el@suemail.test',
    ]);
    assert.notEqual(run.exitCode, 0);
    const notOwned = `553 5.7.1 Sender address rejected: not owned by user ${USER}`;
    assert.ok(run.replies.includes(notOwned), run.output);

    const nullSender = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user: USER,
      password: PASSWORD,
      commands: ['MAIL FROM:<>'],
    });
    assert.deepEqual(nullSender.replies.at(-1), [
      553,
      `5.7.1 Sender address rejected: not owned by user ${USER}`,
    ]);
    await fixture.expectNothingPublishedSince(before);
  });
});

describe('the loopback plaintext AUTH allowance (embedded default)', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({
      env: { SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true', SMTP_BIND_HOST: '0.0.0.0' },
    });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('a loopback client may AUTH without TLS', async () => {
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.submission),
      ...swaksAuth(USER, PASSWORD),
      '--to',
      OTHER_USER,
    ]);
    assert.equal(run.exitCode, 0, run.output);
    assert.ok(queuedId(run.replies));
  });

  test('a client on another address still needs STARTTLS first', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    assert.ok(external, 'this test needs a non-loopback IPv4 address on the machine');
    const result = await pythonSmtp({
      host: external.address,
      port: fixture.ingress.ports.submission,
      mode: 'plain',
      commands: ['EHLO python.client.test', `AUTH PLAIN ${plainAuth}`],
    });
    assert.ok(!result.replies[0]![1].includes('AUTH'), 'AUTH is not advertised before TLS');
    assert.deepEqual(result.replies[1], [530, '5.7.0 Must issue a STARTTLS command first']);
  });
});
