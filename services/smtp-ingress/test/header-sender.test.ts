import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning } from '@correo/directory';
import { queuedId } from '@correo/testkit';
import {
  ALIAS,
  OTHER_LOCAL_DOMAIN,
  OTHER_USER,
  USER,
  startIngressFixture,
  swaksMessage,
  type IngressFixture,
} from './support/ingress-fixture.js';

/** swaks over STARTTLS + AUTH on 587 (or plain on the MX port), the message from a file. */
function send(
  fixture: IngressFixture,
  listener: 'submission' | 'mx',
  name: string,
  message: string,
  envelope: { from: string; to: string } = { from: USER, to: 'el@suemail.test' },
) {
  return swaksMessage(fixture, { listener, name, message, ...envelope });
}

const message = (from: string, extra = '') =>
  `${extra}From: ${from}\r\nTo: el@suemail.test\r\nSubject: header sender\r\n\r\nhola\r\n`;

describe('the From header on submission must be an address the account may use (553 5.7.1)', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture();
  });
  after(async () => {
    await fixture?.stop();
  });

  test("another tenant's or another user's address in From is refused and nothing is published", async () => {
    const before = fixture.events.length;
    for (const [name, from, refused] of [
      ['foreign-domain', 'The CEO <ceo@b.test>', 'ceo@b.test'],
      ['same-domain-other-user', OTHER_USER, OTHER_USER],
      ['second-of-two', `${USER}, ceo@b.test`, 'ceo@b.test'],
      ['group-hides-foreign', `Team: ceo@b.test;`, 'ceo@b.test'],
    ] as const) {
      const run = await send(fixture, 'submission', name, message(from));
      assert.notEqual(run.exitCode, 0, run.output);
      assert.ok(
        run.replies.includes(
          `553 5.7.1 From header address rejected: "${refused}" not owned by user ${USER}`,
        ),
        `${name}: ${run.output}`,
      );
    }
    await fixture.expectNothingPublishedSince(before);
  });

  test('own address (any case, display name) and an alias of the account are accepted', async () => {
    for (const [name, from] of [
      ['own', `"Yo Mismo" <${USER.toUpperCase()}>`],
      ['alias', `Ventas <${ALIAS}>`],
    ] as const) {
      const run = await send(fixture, 'submission', name, message(from));
      assert.equal(run.exitCode, 0, run.output);
      assert.ok(queuedId(run.replies), run.output);
    }
  });

  test('a domain-wide send-as grant in the directory lets the account use any address of that domain', async () => {
    const shared = `boletin@${OTHER_LOCAL_DOMAIN}`;
    const before = await send(fixture, 'submission', 'before-grant', message(shared));
    assert.ok(
      before.replies.some((line) => line.startsWith('553 5.7.1 ')),
      before.output,
    );

    const operator = createProvisioning(fixture.pool);
    const account = await operator.getAccountByAddress(USER);
    await operator.grantSendAs({ accountId: account.id, domain: OTHER_LOCAL_DOMAIN });

    const after = await send(fixture, 'submission', 'after-grant', message(shared), {
      from: shared,
      to: 'el@suemail.test',
    });
    assert.equal(after.exitCode, 0, after.output);
    assert.ok(queuedId(after.replies), after.output);
  });
});

describe('forged Authentication-Results naming our authserv-id are stripped on every listener', () => {
  const forged =
    'Authentication-Results: mx.local.test; dkim=pass header.d=bank.test; dmarc=pass\r\n' +
    'ARC-Authentication-Results: i=1; mx.local.test; spf=pass smtp.mailfrom=bank.test\r\n' +
    'Authentication-Results: other.example; spf=pass\r\n';

  for (const checks of ['on', 'off'] as const) {
    describe(`sender checks ${checks}`, () => {
      let fixture: IngressFixture;
      before(async () => {
        fixture = await startIngressFixture({
          env: { SMTP_SENDER_AUTHENTICATION: checks === 'on' ? 'true' : 'false' },
        });
      });
      after(async () => {
        await fixture?.stop();
      });

      test("submission and MX store no field claiming mx.local.test; other hosts' fields stay", async () => {
        const submitted = await send(fixture, 'submission', 'forged-submission', message(USER, forged));
        assert.equal(submitted.exitCode, 0, submitted.output);
        const viaMx = await send(fixture, 'mx', 'forged-mx', message('someone@outside.test', forged), {
          from: 'someone@outside.test',
          to: USER,
        });
        assert.equal(viaMx.exitCode, 0, viaMx.output);

        const events = await fixture.waitForEvents(2);
        for (const { event } of events) {
          const stored = (await fixture.storedBytes(event)).toString('latin1');
          const header = stored.slice(0, stored.indexOf('\r\n\r\n') + 2).replace(/\r\n(?=[ \t])/g, '');
          assert.doesNotMatch(header, /dkim=pass header\.d=bank\.test/, header);
          assert.doesNotMatch(header, /^ARC-Authentication-Results:.*mx\.local\.test/im, header);
          assert.match(header, /^Authentication-Results: other\.example; spf=pass/m, header);
        }
      });
    });
  }
});
