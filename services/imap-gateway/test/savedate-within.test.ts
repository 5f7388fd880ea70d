import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An IMAP date-time `days` days before now, in UTC. */
function daysAgo(days: number): string {
  const d = new Date(Date.now() - days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/**
 * SAVEDATE (RFC 8514): when a message was put in the mailbox, apart from its internal date (an APPEND
 * may give any), with SAVEDBEFORE/SAVEDON/SAVEDSINCE and SAVEDATESUPPORTED. WITHIN
 * (RFC 5032): YOUNGER and OLDER count seconds back from now against the internal date.
 */
describe('SAVEDATE and WITHIN', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const { accountId, address } = await stack.account('saved');
    await stack.deliver(accountId, address, rawMessage('Delivered now'));
    client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    const old = rawMessage('Written long ago');
    const appended = await client.command(
      `APPEND INBOX "01-Jan-2000 10:00:00 +0000" {${old.length}+}\r\n${old}`,
    );
    assert.match(appended.status, /^OK/);
    const week = rawMessage('Written last week');
    const lastWeek = await client.command(`APPEND INBOX "${daysAgo(7)}" {${week.length}+}\r\n${week}`);
    assert.match(lastWeek.status, /^OK/);
    assert.match((await client.command('SELECT INBOX')).status, /^OK/);
  });
  after(async () => {
    client.destroy();
    await stack.close();
  });

  test('SAVEDATE is when the message was saved, not its internal date', async () => {
    const caps = (await client.command('CAPABILITY')).untagged[0]!;
    assert.match(caps, / SAVEDATE( |$)/);
    assert.match(caps, / WITHIN( |$)/);
    const lines = await client.commandOk('FETCH 1:3 (INTERNALDATE SAVEDATE)');
    const saved = lines.map((line) => /SAVEDATE "([^"]+)"/.exec(line)?.[1]);
    assert.match(lines[1]!, /INTERNALDATE " 1-Jan-2000 10:00:00 \+0000"/);
    for (const date of saved) assert.match(date ?? '', /^[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000$/);
    // All three were saved today (whatever the clock says "today" is, the server's own answer).
    const today = saved[0]!.slice(0, 11).trim();
    assert.ok(saved.every((date) => date!.slice(0, 11).trim() === today));
    assert.deepEqual(await client.commandOk(`SEARCH SAVEDON ${today}`), ['* SEARCH 1 2 3']);
    assert.deepEqual(await client.commandOk(`SEARCH SAVEDSINCE ${today}`), ['* SEARCH 1 2 3']);
    assert.deepEqual(await client.commandOk(`SEARCH SAVEDBEFORE ${today}`), ['* SEARCH']);
    assert.deepEqual(await client.commandOk('SEARCH SAVEDATESUPPORTED'), ['* SEARCH 1 2 3']);
    // BEFORE is the internal date: the APPEND of 2000 is before 2001, its save is not.
    assert.deepEqual(await client.commandOk('SEARCH BEFORE 1-Jan-2001'), ['* SEARCH 2']);
    assert.deepEqual(await client.commandOk('SEARCH SAVEDBEFORE 1-Jan-2001'), ['* SEARCH']);
    assert.deepEqual(await client.commandOk('SEARCH NOT SAVEDBEFORE 1-Jan-2001'), ['* SEARCH 1 2 3']);
  });

  test('YOUNGER and OLDER (RFC 5032 examples)', async () => {
    // RFC 5032 3: "SEARCH YOUNGER 259200" finds what arrived in the last three days.
    assert.deepEqual(await client.commandOk('SEARCH YOUNGER 259200'), ['* SEARCH 1']);
    assert.deepEqual(await client.commandOk('SEARCH OLDER 259200'), ['* SEARCH 2 3']);
    assert.deepEqual(await client.commandOk('SEARCH OLDER 259200 YOUNGER 1209600'), ['* SEARCH 3']);
    assert.deepEqual(await client.commandOk('UID SEARCH NOT OLDER 86400'), ['* SEARCH 1']);
    const bad = await client.command('SEARCH YOUNGER 0');
    assert.match(bad.status, /^BAD/);
  });
});
