import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import type { AccountRef } from '@correo/directory';
import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import type { Limits } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { oneAccountDirectory, RecordingClock } from '@correo/testkit';
import { createMaildropLocks } from '../src/maildrop-lock.js';
import { Pop3Session } from '../src/session.js';
import type { SessionAction, SessionDeps } from '../src/session.js';
import { MemoryMaildrop } from './helpers/memory-maildrop.js';

const ADDRESS = 'reader@pop.test';
const PASSWORD = 'correct horse battery staple';
const ACCOUNT: AccountRef = { accountId: '42', tenantId: '7', address: ADDRESS };

const directory = oneAccountDirectory(ACCOUNT, PASSWORD);

/** One POP3 session without a socket: lines in through handle(), replies kept as text. */
class Pop3Driver {
  readonly session: Pop3Session;
  private output = '';
  disconnected: string | null = null;

  constructor(deps: SessionDeps) {
    const io = {
      write: (data: string | Buffer) => {
        this.output += typeof data === 'string' ? data : data.toString('utf8');
        return Promise.resolve();
      },
      disconnect: (reason: string) => {
        this.disconnected = reason;
      },
    };
    const settings = {
      hostname: 'pop.test',
      tlsAvailable: true,
      allowPlaintextAuthOnLoopback: true,
      maxAuthFailures: 3,
      maxLineLength: 255,
    };
    this.session = new Pop3Session(deps, settings, io, { remoteAddress: '127.0.0.1', secure: false });
  }

  /** Sends one line; resolves with everything the session wrote for it and what the connection does next. */
  async send(line: string): Promise<{ reply: string; action: SessionAction }> {
    const from = this.output.length;
    const action = await this.session.handle({ kind: 'line', line: Buffer.from(line, 'utf8') });
    return { reply: this.output.slice(from), action };
  }

  async login(): Promise<string> {
    await this.send(`USER ${ADDRESS}`);
    return (await this.send(`PASS ${PASSWORD}`)).reply;
  }
}

describe('POP3 session over an in-memory maildrop', () => {
  let maildrop: MemoryMaildrop;
  let limits: Limits;
  let deps: SessionDeps;
  const drivers: Pop3Driver[] = [];

  beforeEach(() => {
    maildrop = new MemoryMaildrop();
    limits = createMemoryLimits({ state: new MemoryLimitsState() });
    deps = {
      directory,
      // The policy's waits are recorded, not slept: these tests are about the session, not the delay.
      loginPolicy: new LoginPolicy(createLoginLimiter(limits), new RecordingClock()),
      store: maildrop,
      locks: createMaildropLocks(limits, 60_000),
      logger: createLogger('pop3-test', 'silent'),
    };
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.session.close()));
    await limits.close();
  });

  function driver(): Pop3Driver {
    const d = new Pop3Driver(deps);
    drivers.push(d);
    return d;
  }

  test('AUTHORIZATION: greeting, CAPA, commands refused before login, wrong then right password', async () => {
    const pop = driver();
    assert.equal(pop.session.greeting(), '+OK pop.test correo POP3 server ready\r\n');
    const capa = (await pop.send('CAPA')).reply;
    for (const capability of ['TOP', 'UIDL', 'USER', 'SASL PLAIN LOGIN', 'STLS', 'PIPELINING']) {
      assert.ok(capa.includes(`\r\n${capability}\r\n`), capability);
    }
    assert.match((await pop.send('STAT')).reply, /^-ERR STAT is not valid before login/);
    assert.match((await pop.send('PASS x')).reply, /^-ERR Send USER first/);
    await pop.send(`USER ${ADDRESS}`);
    assert.match((await pop.send('PASS wrong')).reply, /^-ERR \[AUTH\] Authentication failed/);
    assert.equal(pop.session.loggedIn, false);
    assert.equal(await pop.login(), '+OK Logged in, 0 messages (0 octets)\r\n');
    assert.equal(pop.session.loggedIn, true);
    assert.match((await pop.send('USER x')).reply, /^-ERR USER is not valid after login/);
  });

  test('AUTH PLAIN with an initial response, and after a continuation', async () => {
    const plain = Buffer.from(`\0${ADDRESS}\0${PASSWORD}`).toString('base64');
    const first = driver();
    assert.match((await first.send(`AUTH PLAIN ${plain}`)).reply, /^\+OK Logged in/);
    await first.send('QUIT');
    const second = driver();
    assert.equal((await second.send('AUTH PLAIN')).reply, '+ \r\n');
    assert.match((await second.send(plain)).reply, /^\+OK Logged in/);
  });

  test('STAT, LIST, UIDL, RETR and TOP: sizes are the octets RETR sends, dot-stuffed on the wire', async () => {
    maildrop.deliver(ACCOUNT.accountId, 'Subject: one\r\n\r\nfirst\r\n');
    // Bare LF line ends and a line starting with a dot: RETR sends CRLF and stuffs the dot.
    const odd = maildrop.deliver(ACCOUNT.accountId, 'Subject: two\n\n.hidden\nline 2\nline 3\n');
    const pop = driver();
    assert.match(await pop.login(), /^\+OK Logged in, 2 messages \(\d+ octets\)/);
    const first = 'Subject: one\r\n\r\nfirst\r\n';
    const second = 'Subject: two\r\n\r\n.hidden\r\nline 2\r\nline 3\r\n';
    const total = first.length + second.length;
    assert.equal((await pop.send('STAT')).reply, `+OK 2 ${total}\r\n`);
    assert.equal(
      (await pop.send('LIST')).reply,
      `+OK 2 messages (${total} octets)\r\n1 ${first.length}\r\n2 ${second.length}\r\n.\r\n`,
    );
    assert.equal((await pop.send('UIDL 2')).reply, `+OK 2 ${maildrop.uidvalidity}.${odd}\r\n`);
    assert.equal(
      (await pop.send('RETR 2')).reply,
      `+OK ${second.length} octets\r\nSubject: two\r\n\r\n..hidden\r\nline 2\r\nline 3\r\n.\r\n`,
    );
    assert.equal(
      (await pop.send('TOP 2 1')).reply,
      '+OK Top of message follows\r\nSubject: two\r\n\r\n..hidden\r\n.\r\n',
    );
    assert.match((await pop.send('RETR 3')).reply, /^-ERR No message 3/);
  });

  test('DELE marks, RSET unmarks, QUIT expunges the marked messages in one UPDATE', async () => {
    const uids = [1, 2, 3].map((i) => maildrop.deliver(ACCOUNT.accountId, `Subject: ${i}\r\n\r\nbody\r\n`));
    const pop = driver();
    await pop.login();
    assert.match((await pop.send('DELE 1')).reply, /^\+OK Message 1 deleted/);
    assert.match((await pop.send('DELE 1')).reply, /^-ERR Message 1 is already deleted/);
    assert.match((await pop.send('RETR 1')).reply, /^-ERR Message 1 is already deleted/);
    assert.match((await pop.send('STAT')).reply, /^\+OK 2 /);
    assert.match((await pop.send('RSET')).reply, /^\+OK Maildrop has 3 messages/);
    await pop.send('DELE 2');
    await pop.send('DELE 3');
    const quit = await pop.send('QUIT');
    assert.equal(quit.reply, '+OK Bye, 2 messages deleted\r\n');
    assert.equal(quit.action, 'close');
    assert.deepEqual(maildrop.expunges, [
      { accountId: ACCOUNT.accountId, mailboxId: maildrop.mailboxId, uids: [uids[1], uids[2]] },
    ]);
    assert.deepEqual(maildrop.uids(ACCOUNT.accountId), [uids[0]]);
  });

  test('a connection lost without QUIT deletes nothing and frees the maildrop lock', async () => {
    maildrop.deliver(ACCOUNT.accountId, 'Subject: kept\r\n\r\nbody\r\n');
    const first = driver();
    await first.login();
    await first.send('DELE 1');
    const second = driver();
    assert.match(await second.login(), /^-ERR \[IN-USE\] Maildrop is in use/);
    await first.session.close();
    assert.deepEqual(maildrop.expunges, []);
    assert.match(await second.login(), /^\+OK Logged in, 1 messages/);
  });

  test('a message whose body is gone is still listed; RETR of it answers -ERR [SYS/PERM]', async () => {
    const lost = maildrop.deliver(ACCOUNT.accountId, 'Subject: lost\r\n\r\nbody\r\n');
    maildrop.deliver(ACCOUNT.accountId, 'Subject: fine\r\n\r\nbody\r\n');
    maildrop.loseBody(lost);
    const pop = driver();
    assert.match(await pop.login(), /^\+OK Logged in, 2 messages/);
    assert.match((await pop.send('RETR 1')).reply, /^-ERR \[SYS\/PERM\] Message 1 cannot be read/);
    assert.match((await pop.send('RETR 2')).reply, /^\+OK \d+ octets\r\nSubject: fine/);
  });

  test('three failed logins close the session', async () => {
    const pop = driver();
    for (let i = 1; i <= 2; i++) {
      await pop.send(`USER ${ADDRESS}`);
      assert.equal((await pop.send('PASS nope')).action, 'continue');
    }
    await pop.send(`USER ${ADDRESS}`);
    const last = await pop.send('PASS nope');
    assert.equal(last.reply, '-ERR [AUTH] Authentication failed, closing\r\n');
    assert.equal(last.action, 'close');
  });
});
