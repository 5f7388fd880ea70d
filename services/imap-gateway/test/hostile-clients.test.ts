import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/** The items of docs/security.md that a single hostile IMAP client tries first. */
describe('hostile IMAP clients: LIST patterns, UIDVALIDITY reuse, FETCH repeats, keywords (embedded)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway({
      maxListWildcards: 10,
      maxFetchAttributes: 40,
      maxKeywords: 3,
      maxKeywordLength: 20,
    });
    account = await stack.account('hostile');
    await stack.deliver(account.accountId, account.address, rawMessage('Repeated', ['x'.repeat(2000)]));
  });
  after(async () => {
    await stack.close();
  });

  test('a LIST pattern of many wildcards answers over long names and never stalls another session', async () => {
    const lister = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const other = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      for (let i = 0; i < 5; i++) {
        assert.match((await lister.command(`CREATE ${'a'.repeat(200)}${i}`)).status, /^OK/);
      }
      // A backtracking matcher takes minutes on this; the linear one answers at once.
      const evil = '"*a*a*a*a*a*a*a*c"';
      const events: string[] = [];
      const lists = Array.from({ length: 20 }, () => lister.allocateTag());
      lister.write(lists.map((tag) => `${tag} LIST "" ${evil}\r\n`).join(''));
      const noop = other.command('NOOP').then((done) => {
        events.push('noop');
        return done;
      });
      const listed = (async () => {
        const answers = [];
        for (const tag of lists) answers.push(await lister.collect(tag));
        events.push('lists');
        return answers;
      })();
      const [noopDone, answers] = await Promise.all([noop, listed]);
      assert.match(noopDone.status, /^OK/);
      for (const answer of answers) {
        assert.match(answer.status, /^OK/);
        assert.deepEqual(answer.untagged, []);
      }
      assert.deepEqual(events, ['noop', 'lists']);
      const star = await lister.command(`LIST "" "*a*a*a*a*a*a*a*4"`);
      assert.deepEqual(star.untagged, [`* LIST (\\HasNoChildren) "/" ${'a'.repeat(200)}4`]);
    } finally {
      lister.destroy();
      other.destroy();
    }
  });

  test('LIST patterns past the wildcard cap get BAD [LIMIT]; every atom character is a valid pattern', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      const tooMany = await client.command(`LIST "" "${'*a'.repeat(11)}"`);
      assert.match(tooMany.status, /^BAD \[LIMIT\] .*10 wildcards/);
      // Every ATOM-CHAR and the wildcards, as a real client sent it: an answer, not a dropped connection.
      const atoms = await client.command('LIST "" !#$&\'+,-.0123456789:;<=>?@^_`|[}%*');
      assert.match(atoms.status, /^(OK|BAD|NO) /);
      assert.match((await client.command('NOOP')).status, /^OK/);
      assert.match((await client.command('ENABLE UTF8=ACCEPT')).status, /^OK/);
      const utf8 = await client.command('LIST "" !#$&\'+,-.0123456789:;<=>?@^_`|[}%*');
      assert.match(utf8.status, /^OK/);
      assert.match((await client.command('CREATE "!#$&\'+,-.0123456789:;<=>?@^_`|[}"')).status, /^OK/);
      const found = await client.command('LIST "" !#$&\'+,-.0123456789:;<=>?@^_`|[}%*');
      assert.equal(found.untagged.length, 1);
      assert.match(found.status, /^OK/);
    } finally {
      client.destroy();
    }
  });

  test('UIDVALIDITY: CREATE, DELETE, CREATE at once gives a new one; no two mailboxes of an account share one', async () => {
    const fresh = await stack.account('uidvalidity');
    const client = await LineClient.imapLogin(gateway.ports.imap, fresh.address, stack.password);
    const uidValidity = async (name: string) => {
      const status = await client.command(`STATUS ${name} (UIDVALIDITY)`);
      const match = /UIDVALIDITY (\d+)/.exec(status.untagged.join(' '));
      assert.ok(match, status.untagged.join(' '));
      return Number(match[1]);
    };
    try {
      assert.match((await client.command('CREATE Recycled')).status, /^OK/);
      const first = await uidValidity('Recycled');
      assert.match((await client.command('DELETE Recycled')).status, /^OK/);
      assert.match((await client.command('CREATE Recycled')).status, /^OK/);
      const second = await uidValidity('Recycled');
      assert.notEqual(second, first);
      assert.match((await client.command('RENAME Recycled Moved')).status, /^OK/);
      assert.match((await client.command('CREATE Recycled')).status, /^OK/);
      const third = await uidValidity('Recycled');
      assert.ok(![first, second].includes(third));
      const names = (await client.command('LIST "" "*"')).untagged.map((line) => line.split('"/" ')[1]!);
      const values = [];
      for (const name of names) values.push(await uidValidity(name));
      assert.equal(new Set(values).size, names.length, `shared UIDVALIDITY among ${names.join(', ')}`);
    } finally {
      client.destroy();
    }
  });

  test('FETCH answers a repeated attribute once, caps distinct attributes, and streams a big body intact', async () => {
    const big = await stack.account('bigbody');
    const line = 'The quick brown fox jumps over the lazy dog, again and again and again.';
    const body = Array.from({ length: 40_000 }, (_, i) => `${i} ${line}`);
    await stack.deliver(big.accountId, big.address, rawMessage('Big', body));
    const client = await LineClient.imapLogin(gateway.ports.imap, big.address, stack.password);
    try {
      await client.command('SELECT INBOX');
      const repeated = await client.command(`FETCH 1 (${Array(5000).fill('BODY.PEEK[]').join(' ')})`);
      assert.match(repeated.status, /^OK/);
      assert.equal(repeated.untagged.length, 1);
      assert.equal(repeated.untagged[0]!.split('BODY[]').length - 1, 1, 'one BODY[] item');
      const whole = repeated.untagged[0]!;
      const size = Number(/BODY\[\] \{(\d+)\}/.exec(whole)![1]);
      assert.ok(size > 2_000_000, `a big body: ${size}`);
      assert.ok(whole.includes(`39999 ${line}\r\n`));
      assert.equal(
        whole.length,
        whole.indexOf('}\r\n') + 3 + size + 1,
        'the literal and ")" end the response',
      );
      const partial = await client.command('FETCH 1 (BODY.PEEK[TEXT]<100000.100> UID)');
      assert.match(partial.untagged[0]!, /BODY\[TEXT\]<100000> \{100\}\r\n/);
      const distinct = Array.from({ length: 41 }, (_, i) => `BODY.PEEK[]<${i}.10>`).join(' ');
      const tooMany = await client.command(`FETCH 1 (${distinct})`);
      assert.match(tooMany.status, /^BAD \[LIMIT\] .*40/);
      assert.match((await client.command('NOOP')).status, /^OK/);
    } finally {
      client.destroy();
    }
  });

  test('keywords are bounded in length and in number per mailbox: NO [LIMIT], system flags always work', async () => {
    const tagger = await stack.account('keywords');
    await stack.deliver(tagger.accountId, tagger.address, rawMessage('Tagged'));
    const client = await LineClient.imapLogin(gateway.ports.imap, tagger.address, stack.password);
    try {
      await client.command('SELECT INBOX');
      const long = await client.command(`STORE 1 +FLAGS (${'k'.repeat(21)})`);
      assert.match(long.status, /^NO \[LIMIT\] .*20 octets/);
      assert.match((await client.command('STORE 1 +FLAGS ($one $two)')).status, /^OK/);
      assert.match((await client.command('STORE 1 +FLAGS ($three \\Seen)')).status, /^OK/);
      const fourth = await client.command('STORE 1 +FLAGS ($four)');
      assert.match(fourth.status, /^NO \[LIMIT\] .*3 different keywords/);
      const append = await client.command('APPEND INBOX ($five) {9}\r\nSubject: ');
      assert.match(append.status, /^NO \[LIMIT\]/);
      // What the mailbox has may be set again, and system flags are never counted.
      assert.match((await client.command('STORE 1 FLAGS ($one \\Flagged)')).status, /^OK/);
      const flags = await client.command('FETCH 1 (FLAGS)');
      assert.match(flags.untagged[0]!, /FLAGS \(.*\$one.*\)/);
      assert.doesNotMatch(flags.untagged[0]!, /\$four/);
    } finally {
      client.destroy();
    }
  });
});
