import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { putSieveScript } from '@correo/store';
import { eventually } from '@correo/testkit';
import { mdaMetrics } from '@correo/mda';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;
const TU = `tu@${LOCAL_DOMAIN}`;

async function accountId(stack: RelayStack, address: string): Promise<string> {
  const { rows } = await stack.pool.query<{ id: string }>(
    'SELECT id FROM accounts WHERE lower(address) = $1',
    [address],
  );
  return rows[0]!.id;
}

async function sieveCount(outcome: string): Promise<number> {
  const metric = await mdaMetrics.sieveRuns.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

// Sieve vacation and reject end to end (issue 14): the mda writes the answer, the relay delivers it
// over SMTP to the sender's MX (a loopback SMTP server), with the null reverse-path and DKIM.
describe('Sieve vacation replies and rejection notices reach the sender (mda + relay + remote MTA)', () => {
  let stack: RelayStack;
  const arrivedAt = (recipient: string) =>
    stack.remote.received.filter((m) => m.recipients.includes(recipient));

  before(async () => {
    stack = await RelayStack.create('embedded');
    stack.dns.set('far.test', { MX: [{ exchange: 'mx.far.test', priority: 10 }] });
    stack.dns.set('mx.far.test', { A: ['127.0.0.1'] });
    await putSieveScript(
      stack.pool,
      await accountId(stack, YO),
      'rules',
      'require "vacation"; vacation :days 5 "I am away until Monday.";',
      { activate: true },
    );
    await putSieveScript(
      stack.pool,
      await accountId(stack, TU),
      'rules',
      'require "reject"; reject "No mail from you, please.";',
      { activate: true },
    );
  });

  after(async () => {
    await stack?.close();
  });

  test('a vacation reply arrives once at the sender, from <>, signed, threaded; the message is filed', async () => {
    const friend = 'friend@far.test';
    await stack.acceptMail({ from: friend, to: [YO], subject: 'lunch on friday?' });
    await eventually('the vacation reply at the remote', () => arrivedAt(friend).length > 0, 60_000);
    const [reply] = arrivedAt(friend);
    const raw = reply!.raw.toString();
    assert.equal(reply!.mailFrom, '', 'MAIL FROM:<>');
    assert.match(raw, /^Subject: Auto: lunch on friday\?\r$/m);
    assert.match(raw, /^Auto-Submitted: auto-replied\r$/m);
    assert.match(raw, new RegExp(`^From: <${YO}>\\r$`, 'm'));
    assert.match(raw, /^In-Reply-To: <[^>]+@miemail\.test>\r$/m);
    assert.match(raw, /^DKIM-Signature: .*d=miemail\.test/m, 'signed for the account’s domain');
    assert.ok(raw.includes('I am away until Monday.'));
    await eventually('the original in INBOX', async () => (await stack.inbox(YO)).length > 0, 60_000);

    // The same sender again: filed, not answered (a reply to another sender, sent after it, arrives).
    await stack.acceptMail({ from: friend, to: [YO], subject: 'still on?' });
    await eventually('the second message in INBOX', async () => (await stack.inbox(YO)).length > 1, 60_000);
    await stack.acceptMail({ from: 'other@far.test', to: [YO], subject: 'hello' });
    await eventually('the reply to the other sender', () => arrivedAt('other@far.test').length > 0, 60_000);
    assert.equal(arrivedAt(friend).length, 1, 'one reply per sender per period');
  });

  test('reject: the notice reaches an SPF-verified sender; a forged sender gets nothing; nothing is filed', async () => {
    const forgedBefore = await sieveCount('reject-suppressed');
    await stack.acceptMail({ from: 'victim@far.test', to: [TU], subject: 'forged' });
    await eventually(
      'the suppression',
      async () => (await sieveCount('reject-suppressed')) > forgedBefore,
      60_000,
    );

    const honest = 'honest@far.test';
    await stack.acceptMail({
      from: honest,
      to: [TU],
      subject: 'offer',
      authentication: [{ method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': honest } }],
    });
    await eventually('the rejection notice at the remote', () => arrivedAt(honest).length > 0, 60_000);
    const [notice] = arrivedAt(honest);
    const raw = notice!.raw.toString();
    assert.equal(notice!.mailFrom, '');
    assert.match(raw, /^Auto-Submitted: auto-replied \(rejected\)\r$/m);
    assert.match(raw, /report-type=disposition-notification/);
    assert.ok(raw.includes('No mail from you, please.'), raw);
    assert.equal(arrivedAt('victim@far.test').length, 0, 'no backscatter to the forged sender');
    assert.deepEqual(await stack.inbox(TU), [], 'a rejected message is not filed');
  });
});
