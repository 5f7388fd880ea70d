import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/** Behaviours a conformance suite checks against Dovecot (issue 11), as raw transcripts. */
describe('mailbox names and implicit CONDSTORE (embedded backends)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    account = await stack.account('conformance');
    for (const subject of ['One', 'Two', 'Three']) {
      await stack.deliver(account.accountId, account.address, rawMessage(subject));
    }
  });
  after(async () => {
    await stack.close();
  });

  test('a name that cannot exist gets NO [NONEXISTENT] from every command that looks it up', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      // "a&b" is not modified UTF-7 (a bare "&"), "a//b" has an empty level: neither can be a mailbox.
      for (const name of ['"a&b"', '"a//b"', 'Missing']) {
        for (const command of [
          `SELECT ${name}`,
          `EXAMINE ${name}`,
          `STATUS ${name} (MESSAGES)`,
          `DELETE ${name}`,
        ]) {
          assert.match((await client.command(command)).status, /^NO \[NONEXISTENT\]/, command);
        }
        assert.match((await client.command(`RENAME ${name} Elsewhere`)).status, /^NO \[NONEXISTENT\]/);
      }
      // Creating such a name is refused as a name the server cannot make, not as a syntax error.
      assert.match((await client.command('CREATE "a&b"')).status, /^NO \[CANNOT\]/);
      assert.match((await client.command('CREATE "a//b"')).status, /^NO \[CANNOT\]/);
    } finally {
      client.destroy();
    }
  });

  test('a name of every atom character can be created, selected and listed', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      // Every atom character of RFC 3501; "&" is written "&-" in modified UTF-7.
      const name = "!#$&-'+,-.0123456789:;<=>?@^_`|}";
      assert.match((await client.command(`CREATE ${name}`)).status, /^OK/);
      assert.match((await client.command(`SELECT ${name}`)).status, /^OK \[READ-WRITE\]/);
      assert.deepEqual((await client.command(`LIST "" ${name}`)).untagged, [
        `* LIST (\\HasNoChildren) "/" ${name}`,
      ]);
      assert.match((await client.command(`STATUS ${name} (MESSAGES)`)).untagged[0]!, /\(MESSAGES 0\)$/);
    } finally {
      client.destroy();
    }
  });

  test('the first command that enables CONDSTORE ends with [HIGHESTMODSEQ n]', async () => {
    for (const first of [
      'FETCH 1 (FLAGS MODSEQ)',
      'SEARCH MODSEQ 1',
      'STORE 1 (UNCHANGEDSINCE 1000000) +FLAGS (x)',
    ]) {
      const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      try {
        const selected = await client.command('SELECT INBOX');
        const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.untagged.join('\n'))![1]);
        const done = await client.command(first);
        const after = first.startsWith('STORE') ? highest + 1 : highest;
        assert.match(done.status, new RegExp(`^OK \\[HIGHESTMODSEQ ${after}\\]`), first);
        // Only the first one: CONDSTORE is on from now.
        assert.doesNotMatch((await client.command('FETCH 1 (MODSEQ)')).status, /HIGHESTMODSEQ/);
      } finally {
        client.destroy();
      }
    }
  });

  test('SEARCH RETURN (MIN) / (MAX) with MODSEQ give the mod-sequence of the message returned', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      await client.command('SELECT INBOX');
      const fetched = await client.command('FETCH 1:* (MODSEQ)');
      const modseqs = fetched.untagged.map((line) => Number(/MODSEQ \((\d+)\)/.exec(line)![1]));
      // Message 1 gets the newest change, so MIN (message 1) has the highest and MAX (the last) a lower one.
      const stored = await client.command('STORE 1 +FLAGS (\\Flagged)');
      modseqs[0] = Number(/MODSEQ \((\d+)\)/.exec(stored.untagged[0]!)![1]);
      const last = modseqs.length;
      const min = await client.command('SEARCH RETURN (MIN) MODSEQ 1');
      assert.deepEqual(min.untagged, [`* ESEARCH (TAG "${min.tag}") MIN 1 MODSEQ ${modseqs[0]}`]);
      const max = await client.command('SEARCH RETURN (MAX) MODSEQ 1');
      assert.deepEqual(max.untagged, [
        `* ESEARCH (TAG "${max.tag}") MAX ${last} MODSEQ ${modseqs[last - 1]}`,
      ]);
      const both = await client.command('SEARCH RETURN (MIN MAX) MODSEQ 1');
      assert.deepEqual(both.untagged, [
        `* ESEARCH (TAG "${both.tag}") MIN 1 MAX ${last} MODSEQ ${Math.max(modseqs[0]!, modseqs[last - 1]!)}`,
      ]);
    } finally {
      client.destroy();
    }
  });

  test('a new keyword is announced in FLAGS and PERMANENTFLAGS before any FETCH shows it, to every session', async () => {
    const writer = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const reader = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      await writer.command('SELECT INBOX');
      await reader.command('SELECT INBOX');
      const flagsOf = (lines: string[]) => lines.find((line) => line.startsWith('* FLAGS'));
      const announced = (lines: string[], keyword: string) => {
        const flags = lines.findIndex((line) => line.startsWith('* FLAGS') && line.includes(keyword));
        const permanent = lines.findIndex(
          (line) => line.includes('[PERMANENTFLAGS') && line.includes(keyword),
        );
        const fetch = lines.findIndex((line) => / FETCH .*FLAGS/.test(line) && line.includes(keyword));
        assert.ok(flags >= 0 && permanent >= 0 && fetch >= 0, lines.join('\n'));
        assert.ok(flags < fetch && permanent < fetch, lines.join('\n'));
        assert.match(lines[permanent]!, /\\\*\)\]/);
      };
      // STORE: the storing session first, then the other one on its next update.
      announced((await writer.command('STORE 1 +FLAGS (Stored)')).untagged, 'Stored');
      announced((await reader.command('NOOP')).untagged, 'Stored');
      // Only once: a keyword already told about is not announced again.
      assert.equal(flagsOf((await writer.command('STORE 2 +FLAGS (Stored)')).untagged), undefined);
      // APPEND: the new message's keyword comes before the FETCH of its flags.
      const message = rawMessage('Appended');
      const appended = await writer.command(
        `APPEND INBOX (Appended) {${Buffer.byteLength(message)}+}\r\n${message}`,
      );
      const fetched = await writer.command('FETCH 1:* (FLAGS)');
      announced([...appended.untagged, ...fetched.untagged], 'Appended');
      // The other session learns of the message (and its keyword) on its next update, then fetches it.
      const update = await reader.command('NOOP');
      announced([...update.untagged, ...(await reader.command('FETCH 1:* (FLAGS)')).untagged], 'Appended');
      // COPY into a mailbox that has never had the keyword.
      await writer.command('CREATE Copies');
      const copier = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      try {
        await copier.command('SELECT Copies');
        await writer.command('COPY 1 Copies');
        const copied = await copier.command('NOOP');
        announced([...copied.untagged, ...(await copier.command('FETCH 1:* (FLAGS)')).untagged], 'Stored');
      } finally {
        copier.destroy();
      }
      assert.ok(!fetched.untagged.some((line) => line.includes('FLAGS (NIL)')));
    } finally {
      writer.destroy();
      reader.destroy();
    }
  });
});
