import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineClient, pythonSmtp } from '@correo/testkit';
import {
  USER,
  ALIAS,
  OTHER_USER,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

describe('bad input gets a clear reply', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({
      env: {
        SMTP_MAX_RECIPIENTS: '3',
        SMTP_MAX_MESSAGE_BYTES: '100000',
        SMTP_MAX_HEADER_BYTES: '4096',
        SMTP_MAX_COMMAND_LENGTH: '1024',
        SMTP_MAX_CONNECTIONS_PER_IP: '3',
      },
    });
  });
  after(async () => {
    await fixture?.stop();
  });

  const mx = () => ({ host: '127.0.0.1', port: fixture.ingress.ports.mx, mode: 'plain' as const });

  test('a message line over 998 bytes: 500 5.5.2, nothing published', async () => {
    const before = fixture.events.length;
    const result = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `Subject: long\r\n\r\n${'x'.repeat(999)}\r\n` },
    });
    assert.deepEqual(result.replies.at(-1), [500, '5.5.2 Message line longer than 998 bytes']);
    await fixture.expectNothingPublishedSince(before);
  });

  test('a header block over SMTP_MAX_HEADER_BYTES: 552 5.3.4, nothing published', async () => {
    const before = fixture.events.length;
    const headers = Array.from({ length: 60 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(90)}\r\n`).join('');
    const result = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `${headers}\r\nbody\r\n` },
    });
    assert.deepEqual(result.replies.at(-1), [552, '5.3.4 Message header exceeds 4096 bytes']);
    await fixture.expectNothingPublishedSince(before);
  });

  test('too many recipients: 452 4.5.3 for the extra one, the rest go through', async () => {
    const before = fixture.events.length;
    const result = await pythonSmtp({
      ...mx(),
      send: {
        from: 'a@remote.test',
        to: [USER, ALIAS, OTHER_USER, 'postmaster@local.test'],
        message: 'Subject: many\r\n\r\nhi\r\n',
      },
    });
    assert.deepEqual(result.replies[4], [452, '4.5.3 Too many recipients for one message (at most 3)']);
    const id = /^2\.0\.0 Ok: queued as (\S+)$/.exec(result.replies[5]?.[1] ?? '')?.[1];
    assert.ok(id, JSON.stringify(result));
    const { event } = (await fixture.waitForEvents(before + 1))[before]!;
    assert.equal(event.eventId, id);
    assert.deepEqual(
      event.recipients.map((r) => r.address),
      [USER, ALIAS, OTHER_USER],
    );
  });

  test('an oversize message: 552 5.3.4 at MAIL with SIZE=, and while streaming without it; nothing published', async () => {
    const before = fixture.events.length;
    const declared = await pythonSmtp({ ...mx(), commands: ['MAIL FROM:<a@remote.test> SIZE=100001'] });
    assert.deepEqual(declared.replies, [
      [552, '5.3.4 Error: message exceeds fixed maximum message size 100000'],
    ]);

    const line = `${'y'.repeat(98)}\r\n`;
    const streamed = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `Subject: big\r\n\r\n${line.repeat(1500)}` },
      commands: ['NOOP'],
    });
    assert.deepEqual(
      streamed.replies.slice(2),
      [
        [552, '5.3.4 Message size exceeds fixed maximum message size 100000'],
        [250, '2.0.0 OK'],
      ],
      'the session goes on after the refusal',
    );
    await fixture.expectNothingPublishedSince(before);
  });

  test('bad commands and bad sequences', async () => {
    const result = await pythonSmtp({
      ...mx(),
      commands: [
        'FOO bar',
        'BDAT 10 LAST',
        'RCPT TO:<yo@local.test>',
        'DATA',
        'MAIL FROM:<a@remote.test> BODY=BINARYMIME',
        'MAIL FROM:a@remote.test',
        'MAIL FROM:<a@remote.test>',
        'MAIL FROM:<b@remote.test>',
        'DATA',
        'AUTH PLAIN AGZvbwBiYXI=',
        'VRFY yo@local.test',
      ],
    });
    assert.deepEqual(result.replies, [
      [500, '5.5.2 Error: command not recognized'], // unknown command
      [500, '5.5.2 Error: command not recognized'], // no CHUNKING
      [503, '5.5.1 Error: need MAIL command'], // RCPT before MAIL
      [503, '5.5.1 Error: need RCPT command'], // DATA before RCPT
      [501, '5.5.4 Invalid BODY parameter value. Must be 7BIT or 8BITMIME'], // bad BODY
      [501, '5.1.7 Error: Bad sender address syntax'], // sender without brackets
      [250, '2.1.0 Accepted'],
      [503, '5.5.1 Error: nested MAIL command'],
      [503, '5.5.1 Error: need RCPT command'], // DATA without recipients
      [500, '5.5.2 Error: command not recognized'], // no AUTH on MX
      [252, '2.1.5 Try to send something. No promises though'], // VRFY never discloses
    ]);
  });

  test('an over-long command line: 421 and the connection is closed', async () => {
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      const reply = await session.askSmtp(`NOOP ${'z'.repeat(2000)}`);
      assert.equal(reply, '421 4.4.2 Error: Command line too long');
      assert.ok(await session.closedWithin());
    } finally {
      session.destroy();
    }
  });

  for (const [name, smuggle] of [
    ['<LF>.<LF>', '\n.\n'],
    ['<CR>.<CR>', '\r.\r'],
    ['<CRLF>.<LF>', '\r\n.\n'],
    ['<LF>.<CRLF>', '\n.\r\n'],
    ['<CR><CRLF>.<CRLF> (bare CR before the line end)', 'x\r\r\n.\r'],
  ] as const) {
    test(`SMTP smuggling with ${name} does not end the message`, async () => {
      const before = fixture.events.length;
      const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
      try {
        assert.match(await session.askSmtp('EHLO smuggler.test'), /^250/);
        assert.match(await session.askSmtp('MAIL FROM:<a@remote.test>'), /^250/);
        assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250/);
        assert.match(await session.askSmtp('DATA'), /^354/);
        session.write(
          `Subject: outer\r\n\r\nfirst${smuggle}` +
            `MAIL FROM:<evil@remote.test>\r\nRCPT TO:<${OTHER_USER}>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n`,
        );
        const first = await session.readReply();
        assert.match(first, /^250 2\.0\.0 Ok: queued as [0-9a-f-]{36}$/);
        // Had the smuggled transaction been taken apart, MAIL/RCPT/DATA replies would follow: QUIT gets 221 next.
        assert.match(await session.askSmtp('QUIT'), /^221 /);
      } finally {
        session.destroy();
      }
      const events = await fixture.waitForEvents(before + 1);
      const { event } = events[before]!;
      assert.deepEqual(
        event.recipients.map((r) => r.address),
        [USER],
      );
      const stored = (await fixture.storedBytes(event)).toString('latin1');
      assert.ok(
        stored.includes('MAIL FROM:<evil@remote.test>\r\n'),
        'the smuggled text stayed inside the first message',
      );
      assert.doesNotMatch(stored, /[^\r]\n|\r[^\n]/, 'only CRLF line ends are stored');
      // Nothing else arrives: the smuggled transaction was not published after the first message.
      await fixture.expectNothingPublishedSince(before + 1, 'no smuggled message');
    });
  }

  test('connections per address are limited: 421 4.7.0', async () => {
    const sessions: LineClient[] = [];
    try {
      for (let i = 0; i < 3; i++) sessions.push(await LineClient.openSmtp(fixture.ingress.ports.submission));
      for (const session of sessions) assert.match(session.greeting, /^220 /);
      const refused = await LineClient.openSmtp(fixture.ingress.ports.mx);
      sessions.push(refused);
      assert.equal(refused.greeting, '421 4.7.0 Too many connections from your address, try again later');
      assert.ok(await refused.closedWithin());
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
