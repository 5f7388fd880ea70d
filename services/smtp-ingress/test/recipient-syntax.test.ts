import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresDirectory } from '@correo/directory';
import { LOCAL_DOMAIN, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { LineClient } from '@correo/testkit';

/**
 * RCPT must refuse what the mda would refuse: the event carries the address RCPT checked, and the mda
 * resolves it with the same directory parser, so a 250 at RCPT means a delivery (or a recorded
 * rejection if the directory changes in between), never a silent drop.
 */
describe('RCPT answers what the mda will do with the address', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture();
  });
  after(() => fixture?.stop());

  const refused = [
    // The example: percent-encoding the WHATWG host parser would decode into local.test.
    `yo@loc%61l.test`,
    // An ideographic full stop at the end: IDNA maps it to a trailing dot, which no directory lookup
    // matches (before the fix: 250 at RCPT, then the mda rejected it).
    `yo@${LOCAL_DOMAIN}\u3002`,
    `yo@${LOCAL_DOMAIN}\uff0e`,
    `yo@${LOCAL_DOMAIN}.`,
  ];
  for (const address of refused) {
    test(`RCPT TO:<${JSON.stringify(address).slice(1, -1)}> gets 501 5.1.3`, async () => {
      const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
      try {
        assert.match(await session.askSmtp('EHLO client.remote.test'), /^250/);
        assert.match(await session.askSmtp('MAIL FROM:<a@remote.test> SMTPUTF8'), /^250/);
        assert.match(await session.askSmtp(`RCPT TO:<${address}>`), /^501 5\.1\.3 /);
      } finally {
        session.destroy();
      }
    });
  }

  test('accepted spellings reach the event in the form the directory resolves', async () => {
    const directory = createPostgresDirectory(fixture.pool);
    const spellings = [
      `"yo"@${LOCAL_DOMAIN}`,
      `YO@${LOCAL_DOMAIN.toUpperCase()}`,
      `"y\\o"@${LOCAL_DOMAIN}`,
      `ella+tag@${LOCAL_DOMAIN}`,
    ];
    const before = fixture.events.length;
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      assert.match(await session.askSmtp('EHLO client.remote.test'), /^250/);
      assert.match(await session.askSmtp('MAIL FROM:<a@remote.test>'), /^250/);
      for (const spelling of spellings) {
        assert.match(await session.askSmtp(`RCPT TO:<${spelling}>`), /^250/, spelling);
      }
      assert.match(await session.askSmtp('DATA'), /^354/);
      assert.match(await session.askSmtp('Subject: spellings\r\n\r\nhello\r\n.'), /^250/);
    } finally {
      session.destroy();
    }
    const [published] = (await fixture.waitForEvents(before + 1)).slice(before);
    const recipients = published!.event.recipients.map((r) => r.address);
    assert.deepEqual(recipients, [
      `yo@${LOCAL_DOMAIN}`,
      `YO@${LOCAL_DOMAIN}`,
      `yo@${LOCAL_DOMAIN}`,
      `ella+tag@${LOCAL_DOMAIN}`,
    ]);
    // What the mda does with each (planDelivery calls exactly this): every one is a delivery.
    for (const recipient of recipients) {
      assert.equal((await directory.resolveRecipient(recipient)).kind, 'deliver', recipient);
    }
  });
});
