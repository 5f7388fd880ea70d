import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLoginLimiter, loginFailureCounter, LoginPolicy } from '@correo/auth';
import { LineClient, RecordingClock } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

/** The failure window of the tests' limiters; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('limits: TLS before login, failed logins, connections, sizes, autologout (Redis limits)', () => {
  let stack: ImapTestStack;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('distributed');
    account = await stack.account('limits');
  });
  after(async () => {
    await stack.close();
  });

  test('without the loopback allowance, LOGIN needs TLS: LOGINDISABLED, then STARTTLS makes it work', async () => {
    const gateway = await stack.gateway({ allowPlaintextAuthOnLoopback: false });
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      assert.match(await client.readLine(), /LOGINDISABLED/);
      const refused = await client.command(`LOGIN ${account.address} "${stack.password}"`);
      assert.match(refused.status, /^NO \[PRIVACYREQUIRED\]/);
      const plain = Buffer.from(`\0${account.address}\0${stack.password}`).toString('base64');
      assert.match((await client.command(`AUTHENTICATE PLAIN ${plain}`)).status, /^NO \[PRIVACYREQUIRED\]/);
      assert.match((await client.command('STARTTLS')).status, /^OK/);
    } finally {
      client.destroy();
    }
  });

  test('failed logins close the connection after the budget and lock the login across connections', async () => {
    const loginLimiter = createLoginLimiter(stack.limits, {
      freeFailures: 10,
      loginLockAfter: 4,
      windowMs: LOCKOUT_WINDOW_MS,
    });
    const loginPolicy = new LoginPolicy(loginLimiter, new RecordingClock());
    const gateway = await stack.gateway({ maxAuthFailures: 3 }, { loginPolicy });
    const first = await LineClient.connect(gateway.ports.imap, { literals: true });
    await first.readLine();
    for (let i = 0; i < 2; i++) {
      assert.match(
        (await first.command(`LOGIN ${account.address} wrong`)).status,
        /^NO \[AUTHENTICATIONFAILED\]/,
      );
    }
    const third = await first.command(`LOGIN ${account.address} wrong`);
    assert.match(third.status, /^NO \[AUTHENTICATIONFAILED\].*closing/);
    await first.closed();
    const second = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await second.readLine();
      await second.command(`LOGIN ${account.address} wrong`);
      // Locked now: even the right password is refused, with the same answer.
      const locked = await second.command(`LOGIN ${account.address} "${stack.password}"`);
      assert.match(locked.status, /^NO \[AUTHENTICATIONFAILED\]/);
      // Positive control: the same password, accepted once the lockout's window has run out.
      await stack.endCounterWindow(
        loginFailureCounter(await stack.loginKey(account.address)),
        LOCKOUT_WINDOW_MS,
      );
      assert.match((await second.command(`LOGIN ${account.address} "${stack.password}"`)).status, /^OK /);
    } finally {
      second.destroy();
    }
  });

  test('the lockout counts the account however the login is spelled; the lock ends with its window', async () => {
    const target = await stack.account('spelled');
    const loginLimiter = createLoginLimiter(stack.limits, {
      freeFailures: 10,
      loginLockAfter: 4,
      windowMs: LOCKOUT_WINDOW_MS,
    });
    const loginPolicy = new LoginPolicy(loginLimiter, new RecordingClock());
    const gateway = await stack.gateway({ maxAuthFailures: 10 }, { loginPolicy });
    const [local, domain] = target.address.split('@') as [string, string];
    const fullWidth = [...domain].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    // Each reaches the same account: quotes, soft hyphen, zero-width space, full-width letters.
    const spellings = [
      `\\"${local}\\"@${domain}`,
      `${local}@${domain.slice(0, 2)}\u00ad${domain.slice(2)}`,
      `${local}@${domain.slice(0, 2)}\u200b${domain.slice(2)}`,
      `${local}@${fullWidth}`,
    ];
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await client.readLine();
      for (const spelling of spellings) {
        assert.match(
          (await client.command(`LOGIN "${spelling}" wrong`)).status,
          /^NO \[AUTHENTICATIONFAILED\]/,
        );
      }
    } finally {
      client.destroy();
    }
    const locked = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await locked.readLine();
      const refused = await locked.command(`LOGIN ${target.address} "${stack.password}"`);
      assert.match(
        refused.status,
        /^NO \[AUTHENTICATIONFAILED\]/,
        'the right password is refused while locked',
      );
    } finally {
      locked.destroy();
    }
    // Positive control: once the window has run out the right password works again.
    await stack.endCounterWindow(
      loginFailureCounter(await stack.loginKey(target.address)),
      LOCKOUT_WINDOW_MS,
    );
    const again = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await again.readLine();
      assert.match((await again.command(`LOGIN ${target.address} "${stack.password}"`)).status, /^OK /);
    } finally {
      again.destroy();
    }
  });

  test('connections per IP and logged-in sessions per account are capped', async () => {
    const other = await stack.account('capped');
    const gateway = await stack.gateway({ maxConnectionsPerIp: 2, maxConnectionsPerUser: 1 });
    const a = await LineClient.imapLogin(gateway.ports.imap, other.address, stack.password);
    const b = await LineClient.connect(gateway.ports.imap, { literals: true });
    const c = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await b.readLine();
      const second = await b.command(`LOGIN ${other.address} "${stack.password}"`);
      assert.match(second.status, /^NO \[LIMIT\]/);
      assert.match(await c.readLine(), /^\* BYE \[LIMIT\]/);
      await c.closed();
    } finally {
      a.destroy();
      b.destroy();
      c.destroy();
    }
  });

  test('over-long lines and literals past APPENDLIMIT get BAD [TOOBIG]; the session goes on', async () => {
    const gateway = await stack.gateway({ maxLineLength: 1024, appendLimit: 4096 });
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      const long = await client.command(`NOOP ${'x'.repeat(2000)}`);
      assert.match(long.status, /^BAD \[TOOBIG\]/);
      const big = await client.command('APPEND INBOX {100000}');
      assert.match(big.status, /^BAD \[TOOBIG\]/);
      assert.match((await client.command('NOOP')).status, /^OK/);
    } finally {
      client.destroy();
    }
  });

  test('autologout ends an inactive session with BYE; IDLE keeps it alive', async () => {
    // The clock is a second session, logged in after IDLE began and then left alone: its BYE says a
    // whole autologout period has passed since then, with no sleep and no race against a short timer.
    const gateway = await stack.gateway({ autologoutMs: 2_000, idleKeepaliveMs: 100 });
    const idle = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    let lazy: LineClient | undefined;
    try {
      await idle.command('SELECT INBOX');
      const tag = idle.allocateTag();
      idle.write(`${tag} IDLE\r\n`);
      assert.match(await idle.readLine(), /^\+ /);
      lazy = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      assert.equal(await lazy.readLine(), '* BYE Autologout: idle for too long');
      await lazy.closed();
      // Past its own autologout time the idler has had only keepalives, and can end IDLE.
      idle.write('DONE\r\n');
      const done = await idle.collect(tag);
      assert.match(done.status, /^OK IDLE terminated/);
      assert.ok(done.untagged.length > 0, 'keepalives were sent');
      assert.deepEqual(new Set(done.untagged), new Set(['* OK Still here']));
    } finally {
      idle.destroy();
      lazy?.destroy();
    }
  });
});
