import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mutator, Random } from '@correo/testkit/fuzz';
import { LineClient, pythonSmtp } from '@correo/testkit';
import {
  ALIAS,
  OTHER_USER,
  PASSWORD,
  USER,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

// smtp-server frames the SMTP commands; this feeds mutated whole sessions to the running listeners
// (real directory, bus and blob store behind them, so the envelope policy runs on every MAIL and
// RCPT), the way smtp-server's own robustness tests feed it garbage: every byte the server sends back
// must be a well-formed reply, every session must end, and the listener must still take mail
// afterwards. The pure code behind it is fuzzed in fuzz.test.ts.

// STARTTLS is left out: the server would wait for a handshake this client never starts (the
// plaintext pipelined behind STARTTLS is discarded by smtp-server, which tests that itself).
const MX_SESSIONS = [
  `EHLO client.remote.test\r\nMAIL FROM:<a@remote.test> SIZE=100\r\nRCPT TO:<${USER}>\r\nRCPT TO:<${ALIAS}>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n`,
  `HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<demo@ex%61mple.test>\r\nRCPT TO:<a%b@local.test>\r\nRCPT TO:<@route.test:${USER}>\r\nDATA\r\n.\r\n`,
  `EHLO [127.0.0.1]\r\nMAIL FROM:<a@remote.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<${USER}> NOTIFY=NEVER\r\nBDAT 5 LAST\r\nhello`,
  `EHLO x\r\nAUTH PLAIN AGEAYg==\r\nAUTH LOGIN\r\nYQ==\r\n*\r\nVRFY ${USER}\r\nEXPN list\r\nHELP\r\n`,
  `EHLO x\nMAIL FROM:<a@remote.test>\nRCPT TO:<${USER}>\nDATA\nSubject: bare lf\n\nx\n.\nsmuggled\r\n.\r\n`,
  `EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\nFrom: x\r\n${'X-Long: ' + 'y'.repeat(1200)}\r\n\r\n.\r\n`,
];

/** After AUTH: senders the account may and may not use, local and foreign recipients (relay). */
const SUBMISSION_SESSIONS = [
  `MAIL FROM:<${USER}>\r\nRCPT TO:<${OTHER_USER}>\r\nRCPT TO:<el@remote.test>\r\nDATA\r\nSubject: out\r\n\r\nx\r\n.\r\n`,
  `MAIL FROM:<${ALIAS}>\r\nRCPT TO:<${USER}>\r\nRSET\r\nMAIL FROM:<${OTHER_USER}>\r\nMAIL FROM:<>\r\nMAIL FROM:<ceo@remote.test>\r\n`,
  `MAIL FROM:<YO@LOCAL.TEST>\r\nRCPT TO:<a%b@remote.test>\r\nRCPT TO:<"q x"@local.test>\r\nBDAT 3 LAST\r\nabc`,
];

const DICTIONARY = [
  '\r\n',
  '\r\n.\r\n',
  'MAIL FROM:<',
  'RCPT TO:<',
  '>',
  '@local.test',
  '@remote.test',
  'DATA\r\n',
  'BDAT ',
  'RSET\r\n',
  ' SIZE=',
  '\0',
  ':',
];
const IDLE_TIMEOUT_MS = 1500;
const REPLY_LINE = /^[2-5]\d\d(?:[ -].*)?$/;

/**
 * Opens `count` sessions, each sent one mutated seed; reads every reply until the server closes.
 * reply() fails the test when the server neither answers nor closes within a generous bound, far
 * above the idle timeout (a liveness check, not a speed measure).
 */
async function sendGarbage(
  open: () => Promise<LineClient>,
  seeds: string[],
  count: number,
  seed: number,
): Promise<string[]> {
  const lines: string[] = [];
  const random = new Random(seed);
  const corpus = seeds.map((s) => Buffer.from(s, 'latin1'));
  const mutator = new Mutator(random, DICTIONARY, 16 * 1024);
  for (let i = 0; i < count; i++) {
    const input = mutator.mutate(random.pick(corpus), random.pick(corpus));
    const session = await open();
    // Then whatever ends DATA, and QUIT: the server answers everything before it closes. A session
    // the garbage left waiting (a BDAT chunk larger than what follows) ends by the idle timer.
    session.write(Buffer.concat([input, Buffer.from('\r\n.\r\nQUIT\r\n')]));
    const replies: string[] = [];
    for (
      let reply = await session.readReply(20 * IDLE_TIMEOUT_MS);
      reply !== '';
      reply = await session.readReply(20 * IDLE_TIMEOUT_MS)
    ) {
      replies.push(reply);
    }
    for (const line of replies.flatMap((reply) => reply.split(/\r?\n/))) {
      assert.match(line, REPLY_LINE, `a malformed reply line for input ${input.toString('base64')}`);
      lines.push(line);
    }
  }
  return lines;
}

describe('garbage sessions against running listeners', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({ env: { SMTP_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) } });
  });
  after(async () => {
    await fixture?.stop();
  });

  test(
    'MX: 50 mutated sessions get well-formed replies and end; mail still flows',
    { timeout: 300_000 },
    async () => {
      const port = fixture.ingress.ports.mx;
      const lines = await sendGarbage(
        async () => {
          const session = await LineClient.openSmtp(port);
          assert.match(session.greeting, /^220 /);
          return session;
        },
        MX_SESSIONS,
        50,
        20261204,
      );
      // The envelope policy answered, not just the syntax checks.
      assert.ok(lines.some((line) => line.startsWith('554 5.7.1 Relay access denied')));
      assert.ok(lines.some((line) => /^250 2\.1\.5 /.test(line)));

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

  test(
    'submission after AUTH (465): 25 mutated sessions get well-formed replies and end',
    { timeout: 300_000 },
    async () => {
      const port = fixture.ingress.ports.submissions;
      const plain = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
      const lines = await sendGarbage(
        async () => {
          const session = await LineClient.openSmtp(port, {
            tls: { ca: fixture.tls.cert, servername: 'mx.local.test' },
          });
          assert.match(session.greeting, /^220 /);
          assert.match(await session.askSmtp('EHLO client.local.test'), /^250/);
          assert.match(await session.askSmtp(`AUTH PLAIN ${plain}`), /^235 /);
          return session;
        },
        SUBMISSION_SESSIONS,
        25,
        465,
      );
      assert.ok(lines.some((line) => line.startsWith('553 5.7.1 Sender address rejected')));
      assert.ok(lines.some((line) => /^250 2\.1\.0 /.test(line)));
      const session = await LineClient.openSmtp(port, {
        tls: { ca: fixture.tls.cert, servername: 'mx.local.test' },
      });
      await session.askSmtp('EHLO client.local.test');
      assert.match(await session.askSmtp(`AUTH PLAIN ${plain}`), /^235 /, 'the account is not locked out');
      assert.match(await session.askSmtp(`MAIL FROM:<${USER}>`), /^250 /);
      session.destroy();
    },
  );
});
