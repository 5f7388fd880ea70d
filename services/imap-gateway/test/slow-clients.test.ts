import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

/** Strangers and slow clients: what an unauthenticated or trickling connection may hold (embedded). */
describe('pre-auth limits, login deadline, session caps and minimum transfer rate', () => {
  let stack: ImapTestStack;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    account = await stack.account('stranger');
  });
  after(async () => {
    await stack.close();
  });

  test('before login: LITERAL-, a big {n+} gets BAD [TOOBIG] and the connection closes unread', async () => {
    const gateway = await stack.gateway();
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      const greeting = await client.readLine();
      assert.match(greeting, / LITERAL- /);
      assert.doesNotMatch(greeting, /LITERAL\+/);
      // A synchronizing one is refused without "+": the client never sends the octets.
      assert.match((await client.command('LOGIN {50000000}')).status, /^BAD \[TOOBIG\]/);
      assert.match((await client.command('NOOP')).status, /^OK/);
      // A non-synchronizing one: its octets would follow anyway, so the answer is BAD and the end.
      client.write('a9 LOGIN {50000000+}\r\n');
      client.write(Buffer.alloc(64 * 1024, 0x61));
      assert.match(await client.readLine(), /^a9 BAD \[TOOBIG\] .*LITERAL-/);
      assert.match(await client.readLine(), /^\* BYE /);
      await client.closed();
    } finally {
      client.destroy();
    }
  });

  test('a login name past 320 octets is refused with NO [LIMIT]; after login LITERAL+ and big literals', async () => {
    const gateway = await stack.gateway();
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await client.readLine();
      const long = await client.command(`LOGIN ${'x'.repeat(321)} secret`);
      assert.match(long.status, /^NO \[LIMIT\] .*320 octets/);
      const plain = Buffer.from(`\0${'y'.repeat(321)}\0secret`).toString('base64');
      assert.match((await client.command(`AUTHENTICATE PLAIN ${plain}`)).status, /^NO \[LIMIT\]/);
      const login = await client.command(`LOGIN ${account.address} "${stack.password}"`);
      assert.match(login.status, /^OK \[CAPABILITY .*LITERAL\+/);
      const message = `Subject: big\r\n\r\n${'z'.repeat(100_000)}\r\n`;
      client.write(`a20 APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
      assert.match((await client.collect('a20')).status, /^OK \[APPENDUID /);
    } finally {
      client.destroy();
    }
  });

  test('no login within the pre-auth time: BYE and close, while a logged-in session goes on', async () => {
    const gateway = await stack.gateway({ preAuthTimeoutMs: 2000 });
    const member = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const stranger = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await stranger.readLine();
      // Activity does not extend the deadline (a socket idle timer would be reset by it).
      assert.match((await stranger.command('NOOP')).status, /^OK/);
      assert.equal(await stranger.readLine(), '* BYE Autologout: no login in time');
      await stranger.closed();
      assert.match((await member.command('NOOP')).status, /^OK/);
    } finally {
      member.destroy();
      stranger.destroy();
    }
  });

  test('sessions are capped per process over both listeners: BYE [LIMIT] beyond the cap', async () => {
    const gateway = await stack.gateway({ maxConnections: 2 });
    const first = await LineClient.connect(gateway.ports.imap, { literals: true });
    const second = await LineClient.connect(gateway.ports.imap, { literals: true });
    await first.readLine();
    await second.readLine();
    const third = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      assert.equal(await third.readLine(), '* BYE [LIMIT] Too many connections');
      await third.closed();
      first.destroy();
      await first.closed();
      // A freed slot is taken again (the count follows the close).
      let fourth: LineClient | null = null;
      for (;;) {
        fourth = await LineClient.connect(gateway.ports.imap, { literals: true });
        const line = await fourth.readLine();
        if (line.startsWith('* OK')) break;
        fourth.destroy();
      }
      fourth.destroy();
    } finally {
      first.destroy();
      second.destroy();
      third.destroy();
    }
  });

  test('a literal trickling below the minimum rate ends the session with BYE', async () => {
    const gateway = await stack.gateway({ minTransferRate: 10_000, transferRateWindowMs: 300 });
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      client.write('a5 APPEND INBOX {100000}\r\n');
      assert.match(await client.readLine(), /^\+ /);
      client.write('Subject: slow\r\n');
      assert.equal(await client.readLine(), '* BYE Literal data arrives too slowly');
      await client.closed();
    } finally {
      client.destroy();
    }
  });

  test('literals of all sessions share one memory budget: beyond it NO [LIMIT], freed when a command ends', async () => {
    // Literals under 64 KiB are held with their command (bigger APPEND bodies are streamed, see below).
    const gateway = await stack.gateway({ appendLimit: 60_000, literalMemory: 90_000 });
    const first = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const second = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const message = `Subject: held\r\n\r\n${'h'.repeat(50_000)}\r\n`;
    try {
      first.write(`f1 APPEND INBOX {${message.length}}\r\n`);
      assert.match(await first.readLine(), /^\+ /);
      first.write(message.slice(0, 1000));
      // The first literal holds some 50 000 of the 90 000 octets: the second does not fit, and is told at once.
      const refused = await second.command(`APPEND INBOX {${message.length}}`);
      assert.match(refused.status, /^NO \[LIMIT\]/);
      first.write(`${message.slice(1000)}\r\n`);
      assert.match((await first.collect('f1')).status, /^OK \[APPENDUID /);
      second.write(`s2 APPEND INBOX {${message.length}}\r\n`);
      assert.match(await second.readLine(), /^\+ /);
      second.write(`${message}\r\n`);
      assert.match((await second.collect('s2')).status, /^OK \[APPENDUID /);
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  test('big APPEND literals stream to the blob store: they fit although the literal budget is small', async () => {
    const streamer = await stack.account('streamer');
    const gateway = await stack.gateway({ appendLimit: 5_000_000, literalMemory: 100_000 });
    const client = await LineClient.imapLogin(gateway.ports.imap, streamer.address, stack.password);
    const body = (n: number) =>
      `Subject: streamed ${n}\r\n\r\n` +
      Array.from({ length: 30_000 }, (_, i) => `${n}:${i} Lorem ipsum dolor sit amet, consectetur.`).join(
        '\r\n',
      ) +
      '\r\n';
    try {
      const one = body(1);
      const two = body(2);
      const small = 'Subject: small\r\n\r\nsmall\r\n';
      // MULTIAPPEND: two streamed literals around a small held one, non-synchronizing, in one write.
      client.write(
        `m1 APPEND INBOX {${one.length}+}\r\n${one} (\\Seen) {${small.length}+}\r\n${small}` +
          ` {${two.length}+}\r\n${two}\r\n`,
      );
      const appended = await client.collect('m1');
      assert.match(appended.status, /^OK \[APPENDUID \d+ 1:3\]/);
      await client.command('SELECT INBOX');
      for (const [n, expected] of [
        [1, one],
        [2, small],
        [3, two],
      ] as const) {
        const fetched = await client.command(`UID FETCH ${n} (BODY.PEEK[])`);
        const line = fetched.untagged[0]!;
        const start = line.indexOf('}\r\n') + 3;
        assert.equal(line.slice(start, start + expected.length), expected);
      }
      // NUL in a plain literal is refused also when streamed; a dropped connection mid-literal harms nothing.
      const nul = `Subject: nul\r\n\r\n${'n'.repeat(70_000)}\0\r\n`;
      client.write(`n1 APPEND INBOX {${nul.length}+}\r\n${nul}\r\n`);
      assert.match((await client.collect('n1')).status, /^BAD .*NUL/);
      const dropped = await LineClient.imapLogin(gateway.ports.imap, streamer.address, stack.password);
      dropped.write(`d1 APPEND INBOX {${one.length}+}\r\n${one.slice(0, 200_000)}`);
      dropped.destroy();
      await dropped.closed();
      assert.match((await client.command('NOOP')).status, /^OK/);
    } finally {
      client.destroy();
    }
  });
});
