import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mutator, Random } from '@correo/testkit/fuzz';
import { pythonSmtp } from './support/clients.js';
import { USER, ALIAS, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { RawSession } from './support/raw-session.js';

// smtp-server frames the SMTP commands; this feeds mutated whole sessions to the running MX listener
// (real directory, bus and blob store behind it), the way smtp-server's own robustness tests feed it
// garbage: every byte the server sends back must be a well-formed reply, every session must end, and
// the listener must still take mail afterwards. The pure code behind it is fuzzed in fuzz.test.ts.

const SESSIONS = [
  `EHLO client.remote.test\r\nMAIL FROM:<a@remote.test> SIZE=100\r\nRCPT TO:<${USER}>\r\nRCPT TO:<${ALIAS}>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n`,
  `HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<demo@ex%61mple.test>\r\nRCPT TO:<a%b@local.test>\r\nRCPT TO:<@route.test:${USER}>\r\nDATA\r\n.\r\n`,
  `EHLO [127.0.0.1]\r\nMAIL FROM:<a@remote.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<${USER}> NOTIFY=NEVER\r\nBDAT 5 LAST\r\nhello`,
  `EHLO x\r\nAUTH PLAIN AGEAYg==\r\nAUTH LOGIN\r\nYQ==\r\n*\r\nSTARTTLS\r\nVRFY ${USER}\r\nEXPN list\r\nHELP\r\n`,
  `EHLO x\nMAIL FROM:<a@remote.test>\nRCPT TO:<${USER}>\nDATA\nSubject: bare lf\n\nx\n.\nsmuggled\r\n.\r\n`,
  `EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\nFrom: x\r\n${'X-Long: ' + 'y'.repeat(1200)}\r\n\r\n.\r\n`,
];

const DICTIONARY = [
  '\r\n',
  '\r\n.\r\n',
  'MAIL FROM:<',
  'RCPT TO:<',
  '>',
  '@local.test',
  'DATA\r\n',
  'BDAT ',
  'RSET\r\n',
  ' SIZE=',
  '\0',
  ':',
];
const SESSION_COUNT = 120;
const REPLY_LINE = /^[2-5]\d\d(?:[ -].*)?$/;

describe('garbage sessions against a running MX listener', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture();
  });
  after(async () => {
    await fixture?.stop();
  });

  test(
    '120 mutated sessions: only well-formed replies, every session ends, mail still flows',
    { timeout: 300_000 },
    async () => {
      const random = new Random(20261204);
      const corpus = SESSIONS.map((s) => Buffer.from(s, 'latin1'));
      const mutator = new Mutator(random, DICTIONARY, 16 * 1024);
      const port = fixture.ingress.ports.mx;
      for (let i = 0; i < SESSION_COUNT; i++) {
        const input = mutator.mutate(random.pick(corpus), random.pick(corpus));
        const session = await RawSession.open(port);
        assert.match(session.greeting, /^220 /);
        session.end(input);
        // Read until the server closes; reply() fails the test if the server neither answers nor closes
        // (a generous liveness bound, not a speed measure).
        const replies: string[] = [];
        for (let reply = await session.reply(60_000); reply !== ''; reply = await session.reply(60_000)) {
          replies.push(reply);
        }
        for (const line of replies.flatMap((reply) => reply.split(/\r?\n/))) {
          assert.match(line, REPLY_LINE, `a malformed reply line for input ${input.toString('base64')}`);
        }
      }

      const clean = await pythonSmtp({
        host: '127.0.0.1',
        port,
        mode: 'plain',
        send: {
          from: 'a@remote.test',
          to: [USER],
          message: 'Subject: after the garbage\r\n\r\nstill here\r\n',
        },
      });
      const last = clean.replies.at(-1);
      assert.equal(last?.[0], 250, `clean session after the garbage: ${JSON.stringify(clean.replies)}`);
      const id = /queued as (\S+)/.exec(last[1])![1];
      // Garbage sessions may have queued mail of their own: wait until this one's event is among them.
      while (!fixture.events.some((e) => e.event.eventId === id)) {
        await fixture.waitForEvents(fixture.events.length + 1);
      }
    },
  );
});
