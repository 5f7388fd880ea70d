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

/** Every way of asking port 25 to relay, with the reply it must get (the README table). */
const relayTricks: [string, string, RegExp][] = [
  ['foreign recipient', '<el@suemail.test>', /^554 5\.7\.1 /],
  ['percent hack', '<el%suemail.test@local.test>', /^554 5\.7\.1 /],
  ['bang path', '<suemail.test!el@local.test>', /^554 5\.7\.1 /],
  ['source route to a foreign domain', '<@a.test,@b.test:el@suemail.test>', /^554 5\.7\.1 /],
  ['quoted local part containing @', '<"el@suemail.test"@local.test>', /^501 5\.1\.3 /],
  ['unknown domain', '<nadie@unknown.test>', /^554 5\.7\.1 /],
  ['address literal', '<yo@[127.0.0.1]>', /^554 5\.7\.1 /],
  ['unknown local user', '<nadie@local.test>', /^550 5\.1\.1 /],
  ['empty address', '<>', /^501 5\.1\.3 /],
  ['missing angle brackets', 'yo@local.test', /^501 5\.1\.3 /],
  ['unclosed angle bracket', '<yo@local.test', /^501 5\.1\.3 /],
  ['two @', '<yo@@local.test>', /^501 5\.1\.3 /],
  ['no domain', '<yo@>', /^501 5\.1\.3 /],
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
    assert.equal(mail![0], 250);
    relayTricks.forEach(([name, , expected], i) => {
      const [code, text] = rest[i]!;
      assert.match(`${code} ${text}`, expected, name);
    });
    // A source route to a local address is ignored (RFC 5321 appendix C): the local user gets it.
    assert.equal(rest[relayTricks.length]![0], 250);
  });

  test('swaks cannot relay through port 25 and nothing is published', async () => {
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
    assert.ok(
      run.replies.some((line) => /^554 5\.7\.1 Relay access denied/.test(line)),
      run.output,
    );
    assert.equal(fixture.events.length, 0);
  });

  test('AUTH and MAIL before STARTTLS are refused on 587', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'plain',
      commands: [`AUTH PLAIN ${plainAuth}`, 'AUTH LOGIN', `MAIL FROM:<${USER}>`],
    });
    assert.deepEqual(
      result.replies.map(([code, text]) => `${code} ${text}`.slice(0, 9)),
      ['530 5.7.0', '530 5.7.0', '530 5.7.0'],
    );
  });

  test('a wrong password is refused with 535 5.7.8', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'starttls',
      user: USER,
      password: 'wrong',
    });
    assert.deepEqual(result.replies.at(-1)?.slice(0, 1), [535]);
    assert.match(result.replies.at(-1)![1], /^5\.7\.8 /);
  });

  test('the envelope sender must belong to the authenticated account: 553 5.7.1', async () => {
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
    assert.ok(
      run.replies.some((line) =>
        line.startsWith(`553 5.7.1 Sender address rejected: not owned by user ${USER}`),
      ),
      run.output,
    );

    const nullSender = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user: USER,
      password: PASSWORD,
      commands: ['MAIL FROM:<>'],
    });
    assert.match(nullSender.replies.map(([c, t]) => `${c} ${t}`).at(-1)!, /^553 5\.7\.1 /);
    assert.equal(fixture.events.length, 0);
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
    assert.match(`${result.replies[1]![0]} ${result.replies[1]![1]}`, /^530 5\.7\.0 /);
  });
});
