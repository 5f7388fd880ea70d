import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { expungeMessages } from '@correo/store';
import { writerFor } from '@correo/store/testing';
import { decodeMailboxChange, mailboxChannel } from '@correo/notify';
import type { Pop3Gateway } from '../src/index.js';
import { loginWhenFree } from './helpers/login.js';
import { eventually, LineClient } from '@correo/testkit';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

for (const kind of STACK_KINDS) {
  describe(`POP3 sessions (${kind})`, () => {
    let stack: Pop3TestStack;
    let gateway: Pop3Gateway;

    before(async () => {
      stack = await Pop3TestStack.create(kind);
      gateway = await stack.startGateway();
    });
    after(() => stack.close());

    async function login(address: string): Promise<LineClient> {
      return loginWhenFree(gateway.ports.pop3, address, stack.password);
    }

    test('greeting and CAPA before login', async () => {
      const client = await LineClient.connect(gateway.ports.pop3);
      try {
        assert.match(await client.readLine(), /^\+OK pop\.test correo POP3 server ready$/);
        assert.match(await client.ask('CAPA'), /^\+OK/);
        const capabilities = await client.readMultiline();
        for (const capability of [
          'TOP',
          'UIDL',
          'USER',
          'SASL PLAIN LOGIN',
          'RESP-CODES',
          'AUTH-RESP-CODE',
        ]) {
          assert.ok(capabilities.includes(capability), capability);
        }
        assert.ok(capabilities.includes('PIPELINING'));
        assert.ok(capabilities.includes('STLS'));
        assert.ok(capabilities.includes('IMPLEMENTATION correo'));
        assert.match(await client.ask('STAT'), /^-ERR STAT is not valid before login/);
        assert.match(await client.ask('QUIT'), /^\+OK/);
        await client.closed();
      } finally {
        client.destroy();
      }
    });

    test('STAT, LIST, UIDL, RETR and TOP: sizes equal the bytes RETR sends', async () => {
      const { accountId, address } = await stack.account('reader');
      // Bare LF, a bare CR, lines starting with dots and no final line end: the blob as an IMAP APPEND
      // could leave it, not as smtp-ingress normalises it.
      const odd = Buffer.from('Subject: odd\n\n.leading dot\r\n..two\rbare cr\nlast line without end');
      const messages = [
        await stack.deliver(accountId, address, rawMessage('first', ['one', '.', 'three'])),
        await stack.deliver(accountId, address, odd),
      ];
      const inbox = await stack.inbox(accountId);
      const client = await login(address);
      try {
        const stat = await client.ask('STAT');
        assert.match(stat, /^\+OK 2 \d+$/);
        assert.match(await client.ask('LIST'), /^\+OK 2 messages/);
        const list = (await client.readMultiline()).map((line) => line.split(' ').map(Number));
        assert.deepEqual(
          list.map(([number]) => number),
          [1, 2],
        );
        assert.equal(Number(stat.split(' ')[2]), list[0]![1]! + list[1]![1]!);
        assert.equal(await client.ask('LIST 2'), `+OK 2 ${list[1]![1]}`);

        assert.match(await client.ask('UIDL'), /^\+OK/);
        assert.deepEqual(await client.readMultiline(), [
          `1 ${inbox.uidvalidity}.${messages[0]!.uid}`,
          `2 ${inbox.uidvalidity}.${messages[1]!.uid}`,
        ]);
        assert.equal(await client.ask('UIDL 1'), `+OK 1 ${inbox.uidvalidity}.${messages[0]!.uid}`);

        for (const [i, message] of messages.entries()) {
          assert.equal(await client.ask(`RETR ${i + 1}`), `+OK ${list[i]![1]} octets`);
          const wire = await client.readMultilineBytes();
          const unstuffed = wire
            .toString('latin1')
            .slice(0, -3)
            .split('\r\n')
            .map((line) => (line.startsWith('.') ? line.slice(1) : line))
            .join('\r\n');
          assert.equal(Buffer.byteLength(unstuffed, 'latin1'), list[i]![1], 'LIST size = bytes sent');
          const expected = message.raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
          assert.equal(unstuffed, expected.endsWith('\r\n') ? expected : `${expected}\r\n`);
        }
        assert.equal(await client.ask('TOP 1 1'), '+OK Top of message follows');
        const top = await client.readMultiline();
        assert.deepEqual(top.slice(-2), ['', 'one']);
        assert.equal(await client.ask('TOP 2 0'), '+OK Top of message follows');
        assert.deepEqual(await client.readMultiline(), ['Subject: odd', '']);
        assert.match(await client.ask('QUIT'), /^\+OK Bye$/);
      } finally {
        client.destroy();
      }
      assert.equal((await stack.uids(accountId)).length, 2, 'QUIT without DELE deletes nothing');
    });

    test('DELE + QUIT expunges atomically, bumps HIGHESTMODSEQ and notifies', async () => {
      const { accountId, address } = await stack.account('deleter');
      const delivered = [];
      for (let i = 0; i < 4; i++)
        delivered.push(await stack.deliver(accountId, address, rawMessage(`m${i}`)));
      const before = await stack.inbox(accountId);
      const notifications: string[] = [];
      const unsubscribe = await stack.notifier.subscribe(mailboxChannel(accountId), (payload) =>
        notifications.push(payload),
      );
      try {
        const client = await login(address);
        assert.equal(await client.ask('DELE 1'), '+OK Message 1 deleted');
        assert.match(await client.ask('DELE 1'), /^-ERR Message 1 is already deleted/);
        assert.match(await client.ask('RETR 1'), /^-ERR Message 1 is already deleted/);
        assert.equal(
          await client.ask('RSET'),
          `+OK Maildrop has 4 messages (${await statOctets(client)} octets)`,
        );
        assert.equal(await client.ask('DELE 2'), '+OK Message 2 deleted');
        assert.equal(await client.ask('DELE 4'), '+OK Message 4 deleted');
        assert.match(await client.ask('STAT'), /^\+OK 2 /);
        assert.equal(await client.ask('QUIT'), '+OK Bye, 2 messages deleted');
        await client.closed();

        assert.deepEqual(await stack.uids(accountId), [delivered[0]!.uid, delivered[2]!.uid]);
        const after = await stack.inbox(accountId);
        assert.equal(after.highestmodseq, before.highestmodseq + 1);
        const { rows } = await stack.pool.query<{ uid: string; modseq: string }>(
          'SELECT uid, modseq FROM expunged WHERE mailbox_id = $1 ORDER BY uid',
          [after.id],
        );
        assert.deepEqual(
          rows.map((row) => [Number(row.uid), Number(row.modseq)]),
          [
            [delivered[1]!.uid, after.highestmodseq],
            [delivered[3]!.uid, after.highestmodseq],
          ],
        );
        const { rows: left } = await stack.pool.query('SELECT 1 FROM messages WHERE account_id = $1', [
          accountId,
        ]);
        assert.equal(left.length, 2, 'message rows of expunged copies are gone');
        await eventually('the expunge notification', () => notifications.length > 0);
        assert.deepEqual(decodeMailboxChange(notifications[0]!), {
          mailboxId: after.id,
          modseq: after.highestmodseq,
          kind: 'expunge',
        });
      } finally {
        await unsubscribe();
      }
    });

    test('a dropped connection deletes nothing', async () => {
      const { accountId, address } = await stack.account('dropper');
      for (let i = 0; i < 3; i++) await stack.deliver(accountId, address, rawMessage(`keep${i}`));
      const before = await stack.inbox(accountId);
      const client = await login(address);
      for (const n of [1, 2, 3]) assert.match(await client.ask(`DELE ${n}`), /^\+OK/);
      client.destroy();
      const again = await login(address);
      assert.match(await again.ask('STAT'), /^\+OK 3 /);
      assert.match(await again.ask('QUIT'), /^\+OK/);
      again.destroy();
      assert.equal((await stack.uids(accountId)).length, 3);
      assert.equal((await stack.inbox(accountId)).highestmodseq, before.highestmodseq);
    });

    test('the maildrop is INBOX as it was at login', async () => {
      const { accountId, address } = await stack.account('snapshot');
      await stack.deliver(accountId, address, rawMessage('before'));
      const client = await login(address);
      await stack.deliver(accountId, address, rawMessage('during'));
      assert.match(await client.ask('STAT'), /^\+OK 1 /);
      assert.match(await client.ask('RETR 2'), /^-ERR No message 2/);
      assert.match(await client.ask('QUIT'), /^\+OK/);
      client.destroy();
      const next = await login(address);
      assert.match(await next.ask('STAT'), /^\+OK 2 /);
      await next.ask('QUIT');
      next.destroy();
    });

    test('a second login to the same maildrop gets [IN-USE]', async () => {
      const { address } = await stack.account('busy');
      const first = await login(address);
      const second = await LineClient.connect(gateway.ports.pop3);
      try {
        await second.readLine();
        await second.ask(`USER ${address}`);
        assert.match(await second.ask(`PASS ${stack.password}`), /^-ERR \[IN-USE\] /);
        assert.match(await first.ask('QUIT'), /^\+OK/);
        await first.closed();
        const third = await login(address);
        assert.match(await third.ask('NOOP'), /^\+OK/);
        third.destroy();
      } finally {
        first.destroy();
        second.destroy();
      }
    });

    test('bad commands and arguments get -ERR with a reason; long lines are refused', async () => {
      const { address } = await stack.account('clumsy');
      const client = await login(address);
      try {
        assert.equal(await client.ask('FROB'), '-ERR Unknown command');
        assert.equal(await client.ask('RETR'), '-ERR RETR needs exactly one message number');
        assert.equal(await client.ask('RETR x'), '-ERR Message number must be a positive integer');
        assert.equal(await client.ask('LIST 1'), '-ERR No message 1');
        assert.equal(await client.ask('TOP 1'), '-ERR TOP needs a message number and a number of lines');
        assert.equal(await client.ask('USER someone'), '-ERR USER is not valid after login');
        assert.equal(await client.ask('STLS'), '-ERR STLS is not valid after login');
        client.write(`NOOP ${'x'.repeat(100_000)}\r\n`);
        assert.equal(await client.readLine(), '-ERR Line too long: at most 2048 octets per command');
        assert.equal(await client.ask('NOOP'), '+OK');
      } finally {
        client.destroy();
      }
    });

    test('pipelined commands are answered in order', async () => {
      const { accountId, address } = await stack.account('pipeliner');
      await stack.deliver(accountId, address, rawMessage('p1'));
      await stack.deliver(accountId, address, rawMessage('p2'));
      const client = await LineClient.connect(gateway.ports.pop3);
      try {
        await client.readLine();
        client.write(`USER ${address}\r\nPASS ${stack.password}\r\nSTAT\r\nRETR 1\r\nRETR 2\r\nNOOP\r\n`);
        assert.match(await client.readLine(), /^\+OK/);
        assert.match(await client.readLine(), /^\+OK Logged in, 2 messages/);
        assert.match(await client.readLine(), /^\+OK 2 /);
        assert.match(await client.readLine(), /^\+OK \d+ octets/);
        assert.ok((await client.readMultiline()).includes('Subject: p1'));
        assert.match(await client.readLine(), /^\+OK \d+ octets/);
        assert.ok((await client.readMultiline()).includes('Subject: p2'));
        assert.equal(await client.readLine(), '+OK');
      } finally {
        client.destroy();
      }
    });

    test('a message expunged elsewhere (IMAP) during the session is still readable and not expunged twice', async () => {
      const { accountId, address } = await stack.account('shared-with-imap');
      const gone = await stack.deliver(accountId, address, rawMessage('imap deletes me'));
      await stack.deliver(accountId, address, rawMessage('pop deletes me'));
      const before = await stack.inbox(accountId);
      const client = await login(address);
      try {
        await expungeMessages(writerFor(stack.pool), { accountId, mailboxId: before.id, uids: [gone.uid] });
        assert.match(await client.ask('RETR 1'), /^\+OK/);
        assert.ok((await client.readMultiline()).includes('Subject: imap deletes me'));
        assert.match(await client.ask('DELE 1'), /^\+OK/);
        assert.match(await client.ask('DELE 2'), /^\+OK/);
        assert.equal(await client.ask('QUIT'), '+OK Bye, 1 messages deleted');
      } finally {
        client.destroy();
      }
      assert.deepEqual(await stack.uids(accountId), []);
      // One MODSEQ for the IMAP expunge, one for POP3's UPDATE.
      assert.equal((await stack.inbox(accountId)).highestmodseq, before.highestmodseq + 2);
    });

    test('fuzz: any command line gets one +OK or -ERR and the session goes on', async () => {
      const { accountId, address } = await stack.account('fuzzed');
      await stack.deliver(accountId, address, rawMessage('fuzz', ['body']));
      const client = await login(address);
      try {
        const line = fc
          .oneof(
            fc.string({ maxLength: 80, unit: 'binary-ascii' }),
            fc
              .tuple(
                fc.constantFrom(
                  'LIST',
                  'UIDL',
                  'RETR',
                  'TOP',
                  'DELE',
                  'STAT',
                  'RSET',
                  'AUTH',
                  'USER',
                  'PASS',
                  'CAPA',
                ),
                fc.array(fc.oneof(fc.nat(3).map(String), fc.string({ maxLength: 5 })), { maxLength: 3 }),
              )
              .map(([name, args]) => [name, ...args].join(' ')),
          )
          .filter((text) => !/[\r\n]/.test(text) && !/^\s*quit/i.test(text) && !/^stls/i.test(text));
        await fc.assert(
          fc.asyncProperty(line, async (text) => {
            client.writeLine(text);
            client.writeLine('NOOP');
            const first = await client.readLine();
            assert.match(first, /^(\+OK|-ERR)/);
            // Skip any multi-line body up to NOOP's bare +OK.
            let last = first;
            while (last !== '+OK') last = await client.readLine();
          }),
          { numRuns: 300 },
        );
        assert.equal(await client.ask('NOOP'), '+OK');
      } finally {
        client.destroy();
      }
    });

    test('wrong passwords get -ERR [AUTH] and end the connection after the limit', async () => {
      const { address } = await stack.account('guessed');
      const client = await LineClient.connect(gateway.ports.pop3);
      try {
        await client.readLine();
        assert.equal(await client.ask('PASS x'), '-ERR Send USER first');
        for (let i = 1; i <= 3; i++) {
          await client.ask(`USER ${address}`);
          const reply = await client.ask('PASS wrong');
          assert.match(reply, i < 3 ? /^-ERR \[AUTH\] Authentication failed$/ : /closing$/);
        }
        await client.closed();
      } finally {
        client.destroy();
      }
    });
  });
}

async function statOctets(client: LineClient): Promise<number> {
  const reply = await client.ask('STAT');
  return Number(reply.split(' ')[2]);
}
