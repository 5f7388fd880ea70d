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

const replyText = (reply: [number, string] | undefined) => (reply ? `${reply[0]} ${reply[1]}` : 'no reply');

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
    const result = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `Subject: long\r\n\r\n${'x'.repeat(999)}\r\n` },
    });
    assert.match(replyText(result.replies.at(-1)), /^500 5\.5\.2 Message line longer than 998 bytes/);
  });

  test('a header block over SMTP_MAX_HEADER_BYTES: 552 5.3.4', async () => {
    const headers = Array.from({ length: 60 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(90)}\r\n`).join('');
    const result = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `${headers}\r\nbody\r\n` },
    });
    assert.match(replyText(result.replies.at(-1)), /^552 5\.3\.4 Message header exceeds 4096 bytes/);
  });

  test('too many recipients: 452 4.5.3 for the extra one, the rest go through', async () => {
    const result = await pythonSmtp({
      ...mx(),
      send: {
        from: 'a@remote.test',
        to: [USER, ALIAS, OTHER_USER, 'postmaster@local.test'],
        message: 'Subject: many\r\n\r\nhi\r\n',
      },
    });
    const codes = result.replies.map(replyText);
    assert.match(codes[4]!, /^452 4\.5\.3 /);
    assert.match(codes[5]!, /^250 2\.0\.0 Ok: queued as /);
    const id = /queued as (\S+)/.exec(codes[5]!)![1];
    await fixture.waitForEvents(1);
    const event = fixture.events.find((e) => e.event.eventId === id)!.event;
    assert.deepEqual(
      event.recipients.map((r) => r.address),
      [USER, ALIAS, OTHER_USER],
    );
  });

  test('an oversize message: 552 5.3.4 at MAIL with SIZE=, and while streaming without it', async () => {
    const declared = await pythonSmtp({ ...mx(), commands: ['MAIL FROM:<a@remote.test> SIZE=100001'] });
    assert.match(replyText(declared.replies[0]), /^552 5\.3\.4 /);

    const line = `${'y'.repeat(98)}\r\n`;
    const streamed = await pythonSmtp({
      ...mx(),
      send: { from: 'a@remote.test', to: [USER], message: `Subject: big\r\n\r\n${line.repeat(1500)}` },
      commands: ['NOOP'],
    });
    const codes = streamed.replies.map(replyText);
    assert.match(codes[2]!, /^552 5\.3\.4 Message size exceeds fixed maximum message size 100000/);
    assert.match(codes[3]!, /^250 /, 'the session goes on after the refusal');
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
    const codes = result.replies.map((reply) => replyText(reply).slice(0, 9));
    assert.deepEqual(codes, [
      '500 5.5.2', // unknown command
      '500 5.5.2', // no CHUNKING
      '503 5.5.1', // RCPT before MAIL
      '503 5.5.1', // DATA before RCPT
      '501 5.5.4', // bad BODY
      '501 5.1.7', // sender without brackets
      '250 2.1.0',
      '503 5.5.1', // nested MAIL
      '503 5.5.1', // DATA without recipients
      '500 5.5.2', // no AUTH on MX
      '252 2.1.5', // VRFY never discloses
    ]);
  });

  test('an over-long command line: 421 and the connection is closed', async () => {
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      const reply = await session.askSmtp(`NOOP ${'z'.repeat(2000)}`);
      assert.match(reply, /^421 4\.4\.2 Error: Command line too long/);
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
        assert.match(first, /^250 2\.0\.0 Ok: queued as /);
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
      // Nothing else arrives: a later message is the very next event.
      const after = await pythonSmtp({
        ...mx(),
        send: { from: 'a@remote.test', to: [USER], message: 'Subject: next\r\n\r\nnext\r\n' },
      });
      const nextId = /queued as (\S+)/.exec(replyText(after.replies.at(-1)))![1];
      const next = await fixture.waitForEvents(before + 2);
      assert.equal(next[before + 1]!.event.eventId, nextId);
    });
  }

  test('connections per address are limited: 421 4.7.0', async () => {
    const sessions: LineClient[] = [];
    try {
      for (let i = 0; i < 3; i++) sessions.push(await LineClient.openSmtp(fixture.ingress.ports.submission));
      for (const session of sessions) assert.match(session.greeting, /^220 /);
      const refused = await LineClient.openSmtp(fixture.ingress.ports.mx);
      sessions.push(refused);
      assert.match(refused.greeting, /^421 4\.7\.0 Too many connections from your address/);
      assert.ok(await refused.closedWithin());
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
