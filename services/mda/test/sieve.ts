import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { decodeOutboundMessage, encodeMailAccepted } from '@correo/proto';
import { ensureMailbox, putSieveScript } from '@correo/store';
import { eventually, uniqueName } from '@correo/testkit';
import type { StackKind } from '@correo/testkit/stack';
import { mdaMetrics } from '../src/metrics.js';
import { REDIRECT_HEADER } from '../src/sieve.js';
import { rawMessage } from './helpers/messages.js';
import { MdaTestStack, acceptedEvent } from './helpers/stack.js';
import type { Collector } from './helpers/stack.js';
import { deliveredRows, outcomeCount } from './helpers/rows.js';

/** Each recipient's active Sieve script at delivery (issue 14), once per stack kind. */
export function sieveScenarios(kind: StackKind): void {
  describe(`mda runs Sieve on the ${kind} stack`, () => {
    let stack: MdaTestStack;
    let outbound: Collector;
    const domain = () => `${uniqueName('sv')}.test`;
    const settled = (eventId: string, outcomes: number) =>
      eventually(
        `${outcomes} outcomes of ${eventId}`,
        async () => (await outcomeCount(stack.pool, eventId)) >= outcomes,
        90_000,
      );
    /** Where each copy of the event went, with its flags, sorted by mailbox. */
    const filed = async (eventId: string) => {
      const { rows } = await stack.pool.query<{ name: string; flags: string[] }>(
        `SELECT mb.name, mm.flags FROM deliveries d
           JOIN mailboxes mb ON mb.id = d.mailbox_id
           JOIN mailbox_messages mm ON mm.idempotency_key = d.event_id || '/' || d.recipient || '/' || d.mailbox_id
          WHERE d.event_id = $1 ORDER BY mb.name`,
        [eventId],
      );
      return rows.map((r) => [r.name, r.flags]);
    };
    /** An account with `script` active. */
    const withScript = async (address: string, script: string) => {
      const accountId = await stack.provision.account(address);
      await putSieveScript(stack.pool, accountId, 'rules', script, { activate: true });
      return accountId;
    };

    before(async () => {
      stack = await MdaTestStack.create(kind, { maxAttempts: 2 });
      await stack.startMda();
      outbound = await stack.collect(stack.settings.outboundTopic);
    });

    after(async () => {
      await outbound?.stop();
      await stack?.close();
    });

    test('fileinto files into an existing folder by a header test; other mail stays in INBOX', async () => {
      const d = domain();
      const accountId = await withScript(
        `lists@${d}`,
        'require "fileinto";\nif header :contains "subject" "[pelicans]" { fileinto "Lists/Pelicans"; }',
      );
      await ensureMailbox(stack.pool, accountId, 'Lists/Pelicans');
      const matching = await stack.publishAccepted({ to: [`lists@${d}`], subject: 'Re: [pelicans] beaks' });
      const other = await stack.publishAccepted({ to: [`lists@${d}`], subject: 'lunch?' });
      await settled(matching, 1);
      await settled(other, 1);
      assert.deepEqual(await filed(matching), [['Lists/Pelicans', []]]);
      assert.deepEqual(await filed(other), [['INBOX', []]]);
    });

    test('fileinto a missing folder keeps in INBOX; with :create it makes the folder', async () => {
      const d = domain();
      await withScript(`plain@${d}`, 'require "fileinto"; fileinto "Nowhere";');
      await withScript(`maker@${d}`, 'require ["fileinto", "mailbox"]; fileinto :create "Made/Here";');
      const plain = await stack.publishAccepted({ to: [`plain@${d}`] });
      const made = await stack.publishAccepted({ to: [`maker@${d}`] });
      await settled(plain, 1);
      await settled(made, 1);
      assert.deepEqual(await filed(plain), [['INBOX', []]]);
      assert.deepEqual(await filed(made), [['Made/Here', []]]);
    });

    test('discard files nothing; another recipient of the same message still gets it', async () => {
      const d = domain();
      await withScript(`bin@${d}`, 'if address :domain "from" "spam.test" { discard; }');
      const keeper = await stack.provision.account(`keeper@${d}`);
      const eventId = await stack.publishAccepted({ to: [`bin@${d}`, `keeper@${d}`], from: 'x@spam.test' });
      await settled(eventId, 1);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.deepEqual(
        rows.map((r) => [r.account_id, r.mailbox_name]),
        [[keeper, 'INBOX']],
      );
      // The same script keeps what it does not discard.
      const kept = await stack.publishAccepted({ to: [`bin@${d}`], from: 'friend@ok.test' });
      await settled(kept, 1);
      assert.deepEqual(await filed(kept), [['INBOX', []]]);
    });

    test('imap4flags: keep and fileinto :flags store the flags with each copy', async () => {
      const d = domain();
      await withScript(
        `flags@${d}`,
        [
          'require ["fileinto", "imap4flags", "copy", "mailbox"];',
          'fileinto :copy :create :flags ["\\\\Seen", "$Archived"] "Archive";',
          'addflag "\\\\Flagged";',
        ].join('\n'),
      );
      const eventId = await stack.publishAccepted({ to: [`flags@${d}`] });
      await settled(eventId, 2);
      assert.deepEqual(await filed(eventId), [
        ['Archive', ['$Archived', '\\Seen']],
        ['INBOX', ['\\Flagged']],
      ]);
    });

    test('a script that does not parse keeps the message in INBOX and is counted', async () => {
      const d = domain();
      const before = await parseErrors();
      await withScript(`broken@${d}`, 'if header :contains "subject" "x" { fileinto "Y";');
      const eventId = await stack.publishAccepted({ to: [`broken@${d}`] });
      await settled(eventId, 1);
      assert.deepEqual(await filed(eventId), [['INBOX', []]]);
      assert.ok((await parseErrors()) > before, 'the parse failure is counted');
    });

    test('a script that fails while running (too many redirects) keeps the message and redirects nothing', async () => {
      const d = domain();
      const before = await sieveCount('runtime-error');
      const targets = ['a', 'b', 'c', 'd', 'e'].map((l) => `redirect "${l}@elsewhere.test";`).join(' ');
      await withScript(`fanout@${d}`, targets);
      const eventId = await stack.publishAccepted({ to: [`fanout@${d}`] });
      await settled(eventId, 1);
      assert.deepEqual(await filed(eventId), [['INBOX', []]]);
      assert.ok((await sieveCount('runtime-error')) > before, 'the run-time failure is counted');
      assert.equal(
        outbound.messages.filter((m) => decodeOutboundMessage(m.value).originalEventId === eventId).length,
        0,
      );
    });

    test('a redelivered event files each copy once, even after the script changed in between', async () => {
      const d = domain();
      const accountId = await withScript(
        `twice@${d}`,
        'require ["fileinto", "copy", "mailbox"]; fileinto :copy :create "Copies"; keep;',
      );
      const blob = await stack.storeMessage({ from: 'a@remote.test', to: [`twice@${d}`] });
      const eventId = randomUUID();
      const event = encodeMailAccepted(acceptedEvent(eventId, 'a@remote.test', { to: [`twice@${d}`] }, blob));
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: eventId, value: event },
        { key: eventId, value: event },
      ]);
      await settled(eventId, 2);
      // A script edited before the bus hands the event over again must not file a third copy.
      await putSieveScript(
        stack.pool,
        accountId,
        'rules',
        'require ["fileinto", "mailbox"]; fileinto :create "Elsewhere";',
      );
      const markerId = randomUUID();
      const marker = encodeMailAccepted(
        acceptedEvent(markerId, 'a@remote.test', { to: [`twice@${d}`] }, blob),
      );
      // One key, one partition: the marker is handled only after the redelivery.
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: eventId, value: event },
        { key: eventId, value: marker },
      ]);
      await settled(markerId, 1);
      assert.deepEqual(await filed(eventId), [
        ['Copies', []],
        ['INBOX', []],
      ]);
      const copies = await stack.pool.query('SELECT 1 FROM messages WHERE received_event_id = $1', [eventId]);
      assert.equal(copies.rowCount, 2);
      assert.deepEqual(await filed(markerId), [['Elsewhere', []]]);
    });

    test('redirect hands the message to the relay with the loop header, once per event; a looped one is kept', async () => {
      const d = domain();
      await withScript(`fwd@${d}`, 'redirect "Friend@elsewhere.test";');
      await withScript(`both@${d}`, 'require "copy"; redirect :copy "friend@elsewhere.test";');
      const jobsOf = (eventId: string) =>
        outbound.messages
          .map((m) => decodeOutboundMessage(m.value))
          .filter((job) => job.originalEventId === eventId);

      await stack.provision.account(`plain@${d}`);
      const blob = await stack.storeMessage({ from: 'a@remote.test', to: [`fwd@${d}`] });
      const eventId = randomUUID();
      const event = encodeMailAccepted(acceptedEvent(eventId, 'a@remote.test', { to: [`fwd@${d}`] }, blob));
      const markerId = randomUUID();
      const marker = encodeMailAccepted(
        acceptedEvent(markerId, 'a@remote.test', { to: [`plain@${d}`] }, blob),
      );
      // Delivered twice: the same job (same id) both times, which the relay keeps once. One key, one
      // partition: the marker is filed only after both.
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: eventId, value: event },
        { key: eventId, value: event },
        { key: eventId, value: marker },
      ]);
      await settled(markerId, 1);
      await eventually('both redirect jobs', async () => jobsOf(eventId).length >= 2, 90_000);
      const jobs = jobsOf(eventId);
      assert.equal(new Set(jobs.map((j) => j.eventId)).size, 1, 'one job id for the redelivered event');
      const [job] = jobs;
      assert.deepEqual(
        job!.recipients.map((r) => r.address),
        ['Friend@elsewhere.test'],
      );
      assert.equal(job!.mailFrom, 'a@remote.test', 'the envelope sender stays the original one');
      assert.equal(job!.chargedTo, `fwd@${d}`, 'the outbound limits charge the redirecting account');
      const relayed = (await stack.blobBytes(job!.blobKey)).toString();
      assert.ok(relayed.startsWith(`${REDIRECT_HEADER}: fwd@${d}\r\n`), relayed.slice(0, 80));
      assert.ok(
        relayed.endsWith((await stack.blobBytes(blob.key)).toString()),
        'the message itself unchanged',
      );
      assert.deepEqual(await filed(eventId), [], 'redirect without :copy cancels the implicit keep');

      const copied = await stack.publishAccepted({ to: [`both@${d}`] });
      await settled(copied, 1);
      await eventually('the :copy redirect job', async () => jobsOf(copied).length >= 1, 90_000);
      assert.deepEqual(await filed(copied), [['INBOX', []]]);

      // The message comes back carrying fwd's own mark (a loop through another forwarder): kept.
      const looped = await stack.blobs.put(
        Readable.from([
          Buffer.concat([
            Buffer.from(`${REDIRECT_HEADER}: fwd@${d}\r\n`),
            rawMessage({ from: 'a@remote.test', to: [`fwd@${d}`], subject: 'again', text: 'x' }),
          ]),
        ]),
      );
      const loopId = await stack.publishAccepted({ to: [`fwd@${d}`], blob: looped });
      await settled(loopId, 1);
      assert.deepEqual(await filed(loopId), [['INBOX', []]]);
      assert.equal(jobsOf(loopId).length, 0, 'not redirected again');
    });
  });
}

async function sieveCount(outcome: string): Promise<number> {
  const metric = await mdaMetrics.sieveRuns.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

const parseErrors = () => sieveCount('parse-error');
