import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning } from '@correo/directory';
import { expungeMessages, listDecisions, recordDecisions } from '@correo/store';
import { housekeepingDefaults } from '../src/config.js';
import { writerFor } from '@correo/store/testing';
import { eventually, uniqueName } from '@correo/testkit';
import { MdaTestStack } from './helpers/stack.js';
import type { StackKind } from '@correo/testkit/stack';
import { deliveredRows, outcomeCount } from './helpers/rows.js';

/**
 * Erasure of message bodies (docs/security.md): the mda's periodic housekeeping deletes what no row
 * refers to. The stack runs it every second with no grace for released bodies, so "within the bound"
 * is "eventually, by the periodic run alone"; unclaimed bodies keep a long grace so that the bodies of
 * events still in the bus are never touched.
 */
export function erasureScenarios(kind: StackKind): void {
  describe(`erasure of message bodies on the ${kind} stack`, () => {
    let stack: MdaTestStack;
    const domain = () => `${uniqueName('d')}.test`;
    const settled = (eventId: string, outcomes: number) =>
      eventually(
        `${outcomes} outcomes of ${eventId}`,
        async () => (await outcomeCount(stack.pool, eventId)) >= outcomes,
        90_000,
      );
    const gone = (key: string) =>
      eventually(`blob ${key} deleted`, async () => (await stack.blobs.stat(key)) === null, 90_000);

    before(async () => {
      stack = await MdaTestStack.create(kind, {
        housekeeping: { intervalSeconds: 1, releasedGraceSeconds: 0, unclaimedGraceSeconds: 3600 },
      });
      await stack.startMda();
    });

    after(async () => {
      await stack?.close();
    });

    test('deleting an account erases the bytes of its mail; mail another account holds stays', async () => {
      const d = domain();
      const leaving = await stack.provision.account(`leaving@${d}`);
      await stack.provision.account(`staying@${d}`);
      const own = await stack.publishAccepted({ to: [`leaving@${d}`], subject: 'only mine' });
      const shared = await stack.publishAccepted({ to: [`leaving@${d}`, `staying@${d}`], subject: 'ours' });
      await settled(own, 1);
      await settled(shared, 2);
      const ownKey = (await deliveredRows(stack.pool, own))[0]!.blob_key;
      const sharedKey = (await deliveredRows(stack.pool, shared))[0]!.blob_key;

      await createProvisioning(stack.pool).deleteAccount(leaving);
      await gone(ownKey);
      // A run after the deletion has finished, so the shared body had its chance to go and did not.
      await stack.mda!.housekeeping.runOnce();
      assert.notEqual(await stack.blobs.stat(sharedKey), null, 'still in the other account');
      const left = await stack.pool.query('SELECT 1 FROM messages WHERE account_id = $1', [leaving]);
      assert.equal(left.rowCount, 0);
    });

    test('an expunged message is erased by the periodic run', async () => {
      const d = domain();
      await stack.provision.account(`tidy@${d}`);
      const eventId = await stack.publishAccepted({ to: [`tidy@${d}`], subject: 'to be expunged' });
      await settled(eventId, 1);
      const [row] = await deliveredRows(stack.pool, eventId);
      assert.ok(row);
      await expungeMessages(writerFor(stack.pool), {
        accountId: row.account_id,
        mailboxId: row.mailbox_id,
        uids: [Number(row.uid)],
      });
      await gone(row.blob_key);
    });

    test('a body stored for an intake that was then refused is erased after the unclaimed grace period', async () => {
      // What smtp-ingress leaves when the publish fails after the body was stored: a blob and no event.
      const orphan = await stack.blobs.put(
        Readable.from([Buffer.from(`Subject: ${uniqueName('refused')}\r\n\r\nx\r\n`)]),
      );
      const scanned = await stack.mda!.housekeeping.runOnce({ scan: true });
      assert.ok(scanned.unclaimedFound >= 1);
      assert.notEqual(await stack.blobs.stat(orphan.key), null, 'kept during the grace period');
      await stack.pool.query(
        `UPDATE blob_candidates SET since = since - interval '1 hour 1 second' WHERE blob_key = $1`,
        [orphan.key],
      );
      await gone(orphan.key);
    });

    test('decisions past their retention are deleted by housekeeping; recent ones stay', async () => {
      const ip = `192.0.2.${Math.floor(Math.random() * 250) + 1}`;
      const decision = (at: Date, reason: string) => ({
        at,
        service: 'smtp-ingress' as const,
        stage: 'rcpt' as const,
        outcome: 'rejected' as const,
        reason,
        detail: '550 5.1.1',
        clientIp: ip,
      });
      const days = housekeepingDefaults.decisionRetentionDays;
      await recordDecisions(stack.pool, [
        decision(new Date(Date.now() - (days + 1) * 86_400_000), 'old'),
        decision(new Date(), 'recent'),
      ]);
      // This stack also runs housekeeping every second: the old decision may go in that run rather
      // than in this one (whose count is then 0; a CI run saw it). runOnce returns after a whole run that
      // started after the decisions were written, this one or the one it waited for, so by then the
      // old decision is gone whichever pruned it, and the recent one is still there.
      const run = await stack.mda!.housekeeping.runOnce();
      assert.equal(run.ran, true);
      const kept = await listDecisions(stack.pool, { tenantId: null }, { clientIp: ip, limit: 10 });
      assert.deepEqual(
        kept.map((d) => d.reason),
        ['recent'],
      );
    });

    if (kind === 'embedded') {
      test('the bus table keeps no mail event the mda has consumed', async () => {
        const d = domain();
        await stack.provision.account(`bus@${d}`);
        const eventId = await stack.publishAccepted({ to: [`bus@${d}`] });
        await settled(eventId, 1);
        await eventually(
          'mail.accepted pruned',
          async () => {
            const { rowCount } = await stack.pool.query('SELECT 1 FROM bus.messages WHERE topic = $1', [
              stack.settings.acceptedTopic,
            ]);
            return rowCount === 0;
          },
          90_000,
        );
      });
    }
  });
}
