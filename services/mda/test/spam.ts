import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create, SpamVerdictSchema } from '@correo/proto';
import { ensureMailbox, putSieveScript } from '@correo/store';
import { eventually, uniqueName } from '@correo/testkit';
import type { StackKind } from '@correo/testkit/stack';
import { MdaTestStack, acceptedEvent } from './helpers/stack.js';
import { deliveredRows, outcomeCount } from './helpers/rows.js';

interface VerdictInit {
  status: string;
  action?: string;
  score?: number;
  rejectScore?: number;
  junkRecipients?: string[];
}

/** The spam verdict smtp-ingress puts in MailAccepted: Junk per recipient, Sieve spamtest (issue 14). */
export function spamScenarios(kind: StackKind): void {
  describe(`mda acts on the spam verdict on the ${kind} stack`, () => {
    let stack: MdaTestStack;
    const domain = () => `${uniqueName('spam')}.test`;

    before(async () => {
      stack = await MdaTestStack.create(kind, { maxAttempts: 2 });
      await stack.startMda();
    });
    after(async () => {
      await stack?.close();
    });

    /** Publishes a message to `to` with the verdict and returns where each recipient's copy went. */
    const deliver = async (to: string[], verdict: VerdictInit) => {
      const blob = await stack.storeMessage({ from: 'x@remote.test', to, subject: 'offer' });
      const eventId = randomUUID();
      await stack.publishEvent({
        ...acceptedEvent(eventId, 'x@remote.test', { to }, blob),
        spam: create(SpamVerdictSchema, verdict),
      });
      await eventually(
        `${to.length} outcomes`,
        async () => (await outcomeCount(stack.pool, eventId)) >= to.length,
      );
      const rows = await deliveredRows(stack.pool, eventId);
      return Object.fromEntries(rows.map((r) => [r.recipient, r.mailbox_name]));
    };

    test('the copies of the recipients whose Junk threshold the score reached go to Junk, others to INBOX', async () => {
      const d = domain();
      await stack.provision.account(`strict@${d}`);
      await stack.provision.account(`lenient@${d}`);
      const where = await deliver([`Strict@${d}`, `lenient@${d}`], {
        status: 'checked',
        action: 'add header',
        score: 8,
        rejectScore: 15,
        junkRecipients: [`Strict@${d}`],
      });
      assert.deepEqual(where, { [`strict@${d}`]: 'Junk', [`lenient@${d}`]: 'INBOX' });
    });

    test("a user's Sieve script tests the score with spamtest / spamtestplus (RFC 5235); keep of a Junk verdict files to Junk", async () => {
      const d = domain();
      const script = [
        'require ["spamtest", "spamtestplus", "relational", "comparator-i;ascii-numeric", "fileinto"];',
        'if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "Untested"; stop; }',
        'if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "60" { fileinto "Likely"; stop; }',
        'if spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "Maybe"; stop; }',
        'keep;',
      ].join('\n');
      for (const local of ['high', 'mid', 'low', 'none', 'junk']) {
        const accountId = await stack.provision.account(`${local}@${d}`);
        await putSieveScript(stack.pool, accountId, 'rules', script, { activate: true });
        for (const name of ['Untested', 'Likely', 'Maybe']) await ensureMailbox(stack.pool, accountId, name);
      }
      const checked = (score: number, junk: string[] = []) => ({
        status: 'checked',
        action: 'no action',
        score,
        rejectScore: 15,
        junkRecipients: junk,
      });
      // 10 of 15 is 67 %; 4.5 of 15 is spamtest 1 + round(0.3 * 9) = 4; 0.5 is 1.
      assert.deepEqual(await deliver([`high@${d}`], checked(10)), { [`high@${d}`]: 'Likely' });
      assert.deepEqual(await deliver([`mid@${d}`], checked(4.5)), { [`mid@${d}`]: 'Maybe' });
      assert.deepEqual(await deliver([`low@${d}`], checked(0.5)), { [`low@${d}`]: 'INBOX' });
      // Rspamd did not answer: "0", not tested (RFC 5235 3.2).
      assert.deepEqual(await deliver([`none@${d}`], { status: 'unchecked' }), { [`none@${d}`]: 'Untested' });
      // The script's keep honours the verdict: the copy goes where the mda files without a script.
      assert.deepEqual(await deliver([`junk@${d}`], checked(2, [`junk@${d}`])), { [`junk@${d}`]: 'Junk' });
    });
  });
}
