import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { decodeOutboundMessage, encodeMailAccepted, nameBasedId } from '@correo/proto';
import type { OutboundMessage } from '@correo/proto';
import { claimVacationReply, putSieveScript } from '@correo/store';
import { eventually, uniqueName } from '@correo/testkit';
import type { StackKind } from '@correo/testkit/stack';
import { mdaMetrics } from '../src/metrics.js';
import { MdaTestStack, acceptedEvent } from './helpers/stack.js';
import type { Collector } from './helpers/stack.js';
import { deliveredRows, outcomeCount } from './helpers/rows.js';

/** A message from `from` to `to`, with extra header fields on top (List-Id, Auto-Submitted...). */
function message(from: string, to: string, subject: string, extra: string[] = []): Buffer {
  return Buffer.from(
    [
      ...extra,
      `From: Sender <${from}>`,
      `To: ${to}`,
      `Subject: ${subject}`,
      'Date: Thu, 26 Nov 2026 06:00:00 +0000',
      `Message-ID: <${randomUUID()}@client.test>`,
      'References: <earlier@client.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Are you there?',
      '',
    ].join('\r\n'),
  );
}

/** One Authentication-Results entry as smtp-ingress puts it in the event. */
interface AuthenticationResultInit {
  method: string;
  result: string;
  reason: string;
  properties: Record<string, string>;
}

const spfPass = (from: string): AuthenticationResultInit[] => [
  { method: 'spf', result: 'pass', reason: '', properties: { 'smtp.mailfrom': from } },
];

/** MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR of the stack: every account here sends fewer, but one. */
const LIMIT = 5;

/** Sieve vacation (RFC 5230) and reject (RFC 5429) at delivery: what goes back to the sender (issue 14). */
export function sieveReplyScenarios(kind: StackKind): void {
  describe(`Sieve vacation and reject answer the sender on the ${kind} stack`, () => {
    let stack: MdaTestStack;
    let outbound: Collector;
    const domain = () => `${uniqueName('vr')}.test`;
    /** An account without a script: what `drained` files to. */
    const plain = `plain@${domain()}`;
    const settled = (eventId: string, outcomes: number) =>
      eventually(
        `${outcomes} outcomes of ${eventId}`,
        async () => (await outcomeCount(stack.pool, eventId)) >= outcomes,
        90_000,
      );
    const jobs = (): OutboundMessage[] => outbound.messages.map((m) => decodeOutboundMessage(m.value));
    const repliesOf = (eventId: string) => jobs().filter((job) => job.originalEventId === eventId);
    const withScript = async (address: string, script: string) => {
      const accountId = await stack.provision.account(address);
      await putSieveScript(stack.pool, accountId, 'rules', script, { activate: true });
      return accountId;
    };
    /** Stores `raw` and publishes it from `from` to `to`; resolves the event id. */
    const send = async (
      from: string,
      to: string,
      raw: Buffer,
      options: { auth?: AuthenticationResultInit[]; eventId?: string; key?: string } = {},
    ) => {
      const blob = await stack.blobs.put(Readable.from([raw]));
      const eventId = options.eventId ?? randomUUID();
      const event = withAuth(acceptedEvent(eventId, from, { to: [to] }, blob), options.auth);
      // One key, one partition: events sent with the same key are handled in this order.
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: options.key ?? eventId, value: encodeMailAccepted(event) },
      ]);
      return eventId;
    };
    /**
     * Every event published on `key` so far has been handled and what it sent is in `outbound`:
     * first a plain message on that key (one partition: filed only once every event before it was
     * prepared, and replies go out before filing), then, published only after that, a message to a
     * vacation account whose reply goes to the same destination domain (one outbound partition, in
     * order). "No reply" is then a fact, not a timeout.
     */
    const drained = async (remoteDomain: string, awayAddress: string, key: string) => {
      const plainId = await send(`x@${remoteDomain}`, plain, message(`x@${remoteDomain}`, plain, 'plain'), {
        key,
      });
      await settled(plainId, 1);
      const markerFrom = `marker-${randomUUID().slice(0, 8)}@${remoteDomain}`;
      const markerId = await send(markerFrom, awayAddress, message(markerFrom, awayAddress, 'marker'));
      await eventually('the marker reply', async () => repliesOf(markerId).length > 0, 90_000);
    };

    before(async () => {
      stack = await MdaTestStack.create(kind, {
        maxAttempts: 2,
        outboundLimits: { perAccountPerHour: LIMIT, perTenantPerHour: 0 },
      });
      await stack.startMda();
      outbound = await stack.collect(stack.settings.outboundTopic);
      await stack.provision.account(plain);
    });

    after(async () => {
      await outbound?.stop();
      await stack?.close();
    });

    test('vacation answers once per sender per period with the RFC 5230 reply, and again after the period', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const away = `away@${d}`;
      const accountId = await withScript(
        away,
        'require "vacation"; vacation :days 3 :subject "Out of office" "I am away until Monday.\nÀ lundi.";',
      );
      const friend = `friend@${remote}`;
      const sentBefore = await sieveCount('vacation-sent');
      const original = message(friend, away, 'lunch?');
      const first = await send(friend, away, original);
      await settled(first, 1);
      assert.deepEqual(
        (await deliveredRows(stack.pool, first)).map((r) => r.mailbox_name),
        ['INBOX'],
        'vacation keeps the message',
      );
      await eventually('the vacation reply', async () => repliesOf(first).length > 0, 90_000);
      const [job] = repliesOf(first);
      assert.equal(job!.mailFrom, '', 'MAIL FROM <>');
      assert.equal(job!.isBounce, true, 'a reply never bounces back');
      assert.deepEqual(
        job!.recipients.map((r) => r.address),
        [friend],
      );
      assert.equal(job!.destinationDomain, remote);
      assert.equal(job!.chargedTo, away, 'the outbound limits charge the answering account');
      const reply = (await stack.blobBytes(job!.blobKey)).toString();
      const raw = reply.slice(0, reply.indexOf('\r\n\r\n'));
      for (const line of raw.split('\r\n'))
        assert.match(line, /^([A-Za-z-]+: |[ \t])/, 'a field or its folding');
      const header = raw.replace(/\r\n[ \t]+/g, ' ');
      const originalId = /Message-ID: (<[^>]+>)/.exec(original.toString())![1]!;
      assert.match(header, new RegExp(`^From: <${away}>$`, 'm'));
      assert.match(header, new RegExp(`^To: <${friend}>$`, 'm'));
      assert.match(header, /^Subject: Out of office$/m);
      assert.match(header, /^Auto-Submitted: auto-replied$/m);
      assert.match(header, new RegExp(`^In-Reply-To: ${originalId}$`, 'm'));
      assert.match(header, new RegExp(`^References: <earlier@client.test> ${originalId}$`, 'm'));
      assert.match(header, /^Content-Type: text\/plain; charset=utf-8$/m);
      assert.match(header, /^Content-Transfer-Encoding: quoted-printable$/m);
      assert.ok(reply.includes('I am away until Monday.\r\n=C3=80 lundi.'), reply);

      // The same sender again within the 3 days: filed, not answered.
      const second = await send(friend, away, message(friend, away, 'still there?'));
      await settled(second, 1);
      await drained(remote, away, second);
      assert.equal(repliesOf(second).length, 0, 'no second reply within the period');

      // The period is over (the stored time moved back past :days): answered again.
      await stack.pool.query(
        `UPDATE sieve_vacation_replies SET replied_at = replied_at - interval '4 days'
          WHERE account_id = $1 AND sender = $2`,
        [accountId, friend],
      );
      const third = await send(friend, away, message(friend, away, 'back yet?'));
      await eventually('the reply after the period', async () => repliesOf(third).length > 0, 90_000);
      assert.ok((await sieveCount('vacation-sent')) >= sentBefore + 2);
    });

    test(':days beyond MDA_VACATION_MAX_DAYS (30 here) is clamped: a sender is answered again after 30 days', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const away = `long@${d}`;
      const accountId = await withScript(away, 'require "vacation"; vacation :days 60 "Away for long.";');
      const friend = `friend@${remote}`;
      const first = await send(friend, away, message(friend, away, 'one'));
      await eventually('the first reply', async () => repliesOf(first).length > 0, 90_000);
      await stack.pool.query(
        `UPDATE sieve_vacation_replies SET replied_at = replied_at - interval '31 days' WHERE account_id = $1`,
        [accountId],
      );
      const again = await send(friend, away, message(friend, away, 'two'));
      await eventually('the reply after 31 days', async () => repliesOf(again).length > 0, 90_000);
    });

    test(':from is used when it is an address of one of our domains, never to speak for another domain', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const team = `team@${d}`;
      await withScript(
        `desk@${d}`,
        `require "vacation"; vacation :from "Help Desk <${team}>" "Closed today.";`,
      );
      await withScript(`spoof@${d}`, 'require "vacation"; vacation :from "ceo@bank.example" "Send money.";');
      const friend = `friend@${remote}`;
      const fromOf = async (to: string) => {
        const id = await send(friend, to, message(friend, to, 'hi'));
        await eventually(`the reply of ${to}`, async () => repliesOf(id).length > 0, 90_000);
        const reply = (await stack.blobBytes(repliesOf(id)[0]!.blobKey)).toString();
        return /^From: (.*)$/m.exec(reply)![1];
      };
      assert.equal(await fromOf(`desk@${d}`), `Help Desk <${team}>`);
      assert.equal(await fromOf(`spoof@${d}`), `<spoof@${d}>`);
    });

    test('vacation never answers a list, an auto-reply, bulk mail, the null sender, mail not to the user, nor spam', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const away = `quiet@${d}`;
      await withScript(away, 'require "vacation"; vacation "Away.";');
      const cases: { from: string; raw: Buffer; auth?: AuthenticationResultInit[] }[] = [
        {
          from: `a@${remote}`,
          raw: message(`a@${remote}`, away, 'list', ['List-Id: <pelicans.lists.test>']),
        },
        {
          from: `b@${remote}`,
          raw: message(`b@${remote}`, away, 'auto', ['Auto-Submitted: auto-generated']),
        },
        { from: `c@${remote}`, raw: message(`c@${remote}`, away, 'bulk', ['Precedence: bulk']) },
        { from: '', raw: message(`mailer-daemon@${remote}`, away, 'bounce') },
        { from: `owner-pelicans@${remote}`, raw: message(`owner-pelicans@${remote}`, away, 'owner') },
        { from: `pelicans-request@${remote}`, raw: message(`pelicans-request@${remote}`, away, 'req') },
        { from: `e@${remote}`, raw: message(`e@${remote}`, `someone-else@${d}`, 'bcc') },
        { from: away, raw: message(away, away, 'note to self') },
        {
          from: `f@${remote}`,
          raw: message(`f@${remote}`, away, 'spam'),
          auth: [
            { method: 'dmarc', result: 'fail', reason: '', properties: { 'policy.dmarc': 'quarantine' } },
          ],
        },
      ];
      const key = randomUUID();
      const ids: string[] = [];
      for (const c of cases)
        ids.push(await send(c.from, away, c.raw, { key, ...(c.auth ? { auth: c.auth } : {}) }));
      await drained(remote, away, key);
      for (const id of ids) await settled(id, 1);
      for (const [i, id] of ids.entries()) assert.equal(repliesOf(id).length, 0, `case ${i}: no reply`);
      // Auto-Submitted: no is a person's message: answered.
      const person = await send(
        `g@${remote}`,
        away,
        message(`g@${remote}`, away, 'hi', ['Auto-Submitted: no']),
      );
      await eventually('the reply to Auto-Submitted: no', async () => repliesOf(person).length > 0, 90_000);
    });

    test('a redelivered event sends its vacation reply once, and a claim left by a crash is not lost', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const away = `twice@${d}`;
      const accountId = await withScript(away, 'require "vacation"; vacation :handle "h1" "Away.";');
      const friend = `friend@${remote}`;
      const raw = message(friend, away, 'twice');
      const blob = await stack.blobs.put(Readable.from([raw]));
      const eventId = randomUUID();
      const event = encodeMailAccepted(acceptedEvent(eventId, friend, { to: [away] }, blob));
      // Handed over twice, as after a SIGKILL between filing and the offset commit.
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: eventId, value: event },
        { key: eventId, value: event },
      ]);
      await drained(remote, away, eventId);
      await settled(eventId, 1);
      const replies = repliesOf(eventId);
      assert.ok(replies.length >= 1, 'answered');
      assert.equal(new Set(replies.map((j) => j.eventId)).size, 1, 'one job id: the relay keeps one');
      assert.equal(new Set(replies.map((j) => j.blobKey)).size, 1, 'the same bytes every time');

      // A crash after the once-per-sender row was claimed and before the reply was handed on: the
      // redelivery finds its own claim and still sends.
      const other = `other@${remote}`;
      const crashed = randomUUID();
      const claimed = await claimVacationReply(stack.pool, {
        accountId,
        sender: other,
        handle: 'h1',
        eventId: crashed,
        at: new Date(),
        periodSeconds: 7 * 86_400,
      });
      assert.equal(claimed, 'first');
      await send(other, away, message(other, away, 'after a crash'), { eventId: crashed });
      await eventually(
        'the reply of the crashed delivery',
        async () => repliesOf(crashed).length > 0,
        90_000,
      );

      const again = { accountId, sender: other, handle: 'h1', at: new Date(), periodSeconds: 7 * 86_400 };
      assert.equal(await claimVacationReply(stack.pool, { ...again, eventId: crashed }), 'again');
      assert.equal(await claimVacationReply(stack.pool, { ...again, eventId: randomUUID() }), 'taken');
    });

    test('a vacation reply to a local sender is filed in the sender’s INBOX', async () => {
      const d = domain();
      const away = `far@${d}`;
      await withScript(away, 'require "vacation"; vacation :subject "Away" "Back soon.";');
      const colleague = `colleague@${d}`;
      const colleagueId = await stack.provision.account(colleague);
      const eventId = await send(colleague, away, message(colleague, away, 'meeting'));
      const replyEvent = nameBasedId('sieve-vacation', eventId, away);
      await settled(replyEvent, 1);
      const rows = await deliveredRows(stack.pool, replyEvent);
      assert.deepEqual(
        rows.map((r) => [r.account_id, r.mailbox_name, r.header_subject]),
        [[colleagueId, 'INBOX', 'Away']],
      );
    });

    test('reject: a verified sender gets the RFC 5429 notice with the reason; a forged one gets nothing; neither is filed', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const strict = `strict@${d}`;
      await withScript(strict, 'require "reject"; reject "I do not accept mail from you.";');
      const marker = `marker@${d}`;
      await withScript(marker, 'require "vacation"; vacation "Away.";');
      const suppressedBefore = await sieveCount('reject-suppressed');

      const honest = `honest@${remote}`;
      const verified = await send(honest, strict, message(honest, strict, 'hello'), {
        auth: spfPass(honest),
      });
      await eventually('the rejection notice', async () => repliesOf(verified).length > 0, 90_000);
      const [job] = repliesOf(verified);
      assert.equal(job!.mailFrom, '');
      assert.deepEqual(
        job!.recipients.map((r) => r.address),
        [honest],
      );
      const notice = (await stack.blobBytes(job!.blobKey)).toString();
      assert.match(notice, /^Auto-Submitted: auto-replied \(rejected\)$/m);
      assert.match(notice, /report-type=disposition-notification/);
      assert.match(notice, /^Disposition: automatic-action\/MDN-sent-automatically; deleted$/m);
      assert.match(notice, new RegExp(`^Final-Recipient: rfc822; ${strict}$`, 'm'));
      assert.ok(notice.includes('I do not accept mail from you.'), notice);

      // Forged: no pass at all, an SPF pass for another domain, an SPF fail; and a list message.
      const key = randomUUID();
      const forged = [
        await send(`victim@${remote}`, strict, message(`victim@${remote}`, strict, 'x'), { key }),
        await send(`victim2@${remote}`, strict, message(`victim2@${remote}`, strict, 'x'), {
          key,
          auth: spfPass('someone@elsewhere.test'),
        }),
        await send(`victim3@${remote}`, strict, message(`victim3@${remote}`, strict, 'x'), {
          key,
          auth: [
            {
              method: 'spf',
              result: 'fail',
              reason: '',
              properties: { 'smtp.mailfrom': `victim3@${remote}` },
            },
          ],
        }),
        await send(`list@${remote}`, strict, message(`list@${remote}`, strict, 'x', ['List-Id: <l.test>']), {
          key,
          auth: spfPass(`list@${remote}`),
        }),
      ];
      await drained(remote, marker, key);
      for (const id of [verified, ...forged]) {
        assert.deepEqual(await deliveredRows(stack.pool, id), [], 'a rejected message is not filed');
      }
      for (const id of forged) assert.equal(repliesOf(id).length, 0, 'no backscatter');
      assert.ok(
        (await sieveCount('reject-suppressed')) >= suppressedBefore + 4,
        'each suppression is counted',
      );
      // And recorded for GET /v1/decisions: why each message was not filed.
      const decisions = await stack.pool.query<{ event_id: string; reason: string; outcome: string }>(
        'SELECT DISTINCT event_id, reason, outcome FROM mail_decisions WHERE event_id = ANY($1)',
        [[verified, ...forged]],
      );
      assert.deepEqual(
        [verified, ...forged].map((id) =>
          decisions.rows.filter((r) => r.event_id === id).map((r) => `${r.outcome} ${r.reason}`),
        ),
        [['rejected sieve-reject'], ...forged.map(() => ['rejected sieve-reject-suppressed'])],
      );
    });

    test('redirects and vacation replies count against the hourly outbound limit: over it a redirect is kept and a reply not sent; the next hour both go again', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const fwd = `busy@${d}`;
      const fwdId = await withScript(fwd, `redirect "copy@${remote}";`);
      const overBefore = await sieveCount('redirect-over-limit');
      const key = randomUUID();
      const ids: string[] = [];
      for (let i = 0; i <= LIMIT; i++) {
        ids.push(await send(`s${i}@${remote}`, fwd, message(`s${i}@${remote}`, fwd, `n${i}`), { key }));
      }
      // One batch may prepare its events side by side: which one comes last is not fixed, how many is.
      const outcome = async (id: string) =>
        repliesOf(id).length > 0 ? 'redirected' : (await outcomeCount(stack.pool, id)) > 0 ? 'kept' : null;
      await eventually(
        'every message redirected or kept',
        async () => {
          for (const id of ids) if ((await outcome(id)) === null) return false;
          return true;
        },
        90_000,
      );
      const outcomes = await Promise.all(ids.map(outcome));
      assert.equal(outcomes.filter((o) => o === 'redirected').length, LIMIT, outcomes.join());
      const kept = ids[outcomes.indexOf('kept')]!;
      assert.deepEqual(
        (await deliveredRows(stack.pool, kept)).map((r) => r.mailbox_name),
        ['INBOX'],
        'over the limit: kept instead of redirected',
      );
      assert.ok((await sieveCount('redirect-over-limit')) > overBefore, 'counted');

      // The same account's vacation reply is over the limit too: not sent, and not remembered.
      await putSieveScript(stack.pool, fwdId, 'rules', 'require "vacation"; vacation "Away.";', {
        activate: true,
      });
      const friend = `friend@${remote}`;
      const unanswered = await send(friend, fwd, message(friend, fwd, 'hello'), { key });
      await settled(unanswered, 1);
      // The next hour (the window's counter dropped instead of waited for): the same sender is answered.
      await stack.limits.reset(`outbound:account:${fwd}`);
      const answered = await send(friend, fwd, message(friend, fwd, 'hello again'), { key });
      await eventually('the reply in the next hour', async () => repliesOf(answered).length > 0, 90_000);
      assert.equal(repliesOf(unanswered).length, 0, 'nothing was sent over the limit');
    });

    test('a redelivered event is charged once for its redirect, which goes out once; the next message is charged again', async () => {
      const d = domain();
      const remote = `${uniqueName('far')}.test`;
      const fwd = `forwards@${d}`;
      await withScript(fwd, `redirect "copy@${remote}";`);
      // What OutboundQuota counted for the account this hour (libs/limits).
      const charged = () => stack.limits.get(`outbound:account:${fwd}`);
      assert.equal(await charged(), 0);
      const from = `s@${remote}`;
      const blob = await stack.blobs.put(Readable.from([message(from, fwd, 'once')]));
      const eventId = randomUUID();
      const event = encodeMailAccepted(acceptedEvent(eventId, from, { to: [fwd] }, blob));
      const deliver = () => stack.bus.publish(stack.settings.acceptedTopic, [{ key: eventId, value: event }]);

      await deliver();
      await eventually('the redirect job', async () => repliesOf(eventId).length >= 1, 90_000);
      assert.equal(await charged(), 1);

      // Handed over again, as the bus does after a crash before the offset commit. The script
      // filed nothing (redirect only), so it runs again: the second publish of the job shows it did,
      // and the charge comes before the publish.
      await deliver();
      await eventually(
        'the redelivery republished the job',
        async () => repliesOf(eventId).length >= 2,
        90_000,
      );
      const redirects = repliesOf(eventId);
      assert.equal(new Set(redirects.map((j) => j.eventId)).size, 1, 'one job id: the relay sends one copy');
      assert.deepEqual(
        redirects[0]!.recipients.map((r) => r.address),
        [`copy@${remote}`],
      );
      assert.equal(await charged(), 1, 'the redelivery is not charged again');

      const next = await send(from, fwd, message(from, fwd, 'another'));
      await eventually('the next redirect job', async () => repliesOf(next).length >= 1, 90_000);
      assert.equal(await charged(), 2, 'a new message is charged');
    });

    test('housekeeping forgets vacation replies older than MDA_VACATION_MAX_DAYS', async () => {
      const d = domain();
      const accountId = await withScript(`old@${d}`, 'require "vacation"; vacation "Away.";');
      const day = 86_400_000;
      const claim = (sender: string, daysAgo: number) =>
        claimVacationReply(stack.pool, {
          accountId,
          sender,
          handle: 'h',
          eventId: randomUUID(),
          at: new Date(Date.now() - daysAgo * day),
          periodSeconds: 86_400,
        });
      assert.equal(await claim('stale@far.test', 31), 'first');
      assert.equal(await claim('recent@far.test', 29), 'first');
      await stack.mda!.housekeeping.runOnce();
      const { rows } = await stack.pool.query<{ sender: string }>(
        'SELECT sender FROM sieve_vacation_replies WHERE account_id = $1 ORDER BY sender',
        [accountId],
      );
      assert.deepEqual(
        rows.map((r) => r.sender),
        ['recent@far.test'],
      );
    });
  });
}

function withAuth<T extends object>(event: T, auth: AuthenticationResultInit[] | undefined): T {
  return auth ? { ...event, authenticationResults: { results: auth, header: '' } } : event;
}

async function sieveCount(outcome: string): Promise<number> {
  const metric = await mdaMetrics.sieveRuns.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}
