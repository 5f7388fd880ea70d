import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, swaks, swaksAuth } from '@correo/testkit';
import { headerValues, readMailbox } from './support/mailbox-reader.js';
import {
  newPassword,
  provisionSigningDomain,
  startTwoDomains,
  storedSubjects,
} from './support/two-domains.js';
import type { MailDomain, TwoDomains } from './support/two-domains.js';

const MIEMAIL = { name: 'miemail.test', ip: '127.0.0.12' };
const SUEMAIL = { name: 'suemail.test', ip: '127.0.0.13' };
// An outside host sending with a forged reverse-path.
const FORGER_IP = '127.0.0.15';

const YO = 'yo@miemail.test';
const AWAY = 'away@suemail.test';
const STRICT = 'strict@suemail.test';

/** One series of correo_mda_sieve_runs_total from a stack's /metrics, 0 when absent. */
async function sieveRuns(domain: MailDomain, outcome: string): Promise<number> {
  const line = (await domain.app.metrics())
    .split('\n')
    .find((l) => l.startsWith(`correo_mda_sieve_runs_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * Sieve vacation and reject across two correo installations (issue 14): yo@miemail.test writes with
 * swaks on submission; suemail.test's MX verifies SPF/DKIM/DMARC, its mda runs the recipient's
 * script and its relay sends the answer to miemail.test's MX, where yo@ reads it over IMAP.
 */
describe('Sieve answers across two domains: vacation once per sender, reject only to a verified sender', () => {
  const run = randomBytes(4).toString('hex');
  const yoPassword = newPassword();
  let world: TwoDomains;
  let mi: MailDomain;
  let su: MailDomain;

  before(async () => {
    world = await startTwoDomains({ sender: MIEMAIL, receiver: SUEMAIL });
    ({ sender: mi, receiver: su } = world);
    await provisionSigningDomain(world, mi, 'miemail', `e2e${run}`);
    await mi.admin.createAccount(YO, yoPassword);
    await provisionSigningDomain(world, su, 'suemail', `e2e${run}`);
    const away = await su.admin.createAccount(AWAY, newPassword());
    await su.admin.putSieve(
      away.id,
      'require "vacation"; vacation :days 7 :subject "Out of office" "Back on Monday.";',
    );
    const strict = await su.admin.createAccount(STRICT, newPassword());
    await su.admin.putSieve(strict.id, 'require "reject"; reject "I take no mail from strangers.";');
  });

  after(async () => {
    await world?.stop();
  });

  async function submit(to: string, subject: string): Promise<void> {
    const result = await swaks([
      '--server',
      mi.ip,
      '--port',
      String(mi.app.ports.submission),
      '--tls',
      ...swaksAuth(YO, yoPassword),
      '--to',
      to,
      '--header',
      `Subject: ${subject}`,
      '--body',
      `Hola, ${to}.`,
    ]);
    assert.equal(result.exitCode, 0, result.output);
  }

  test('yo@ gets one vacation reply for two messages, and the rejection notice with the reason', async () => {
    await submit(AWAY, `first ${run}`);
    await eventually(
      'the vacation reply in yo@’s store',
      async () => (await storedSubjects(mi, YO)).includes('Out of office'),
      90_000,
      500,
    );
    await submit(AWAY, `second ${run}`);
    await eventually(
      'both messages filed at suemail.test',
      async () => (await storedSubjects(su, AWAY)).length === 2,
      90_000,
      500,
    );
    // The reject notice goes out after the second message was handled: once it is in, a second
    // vacation reply would have been too.
    await submit(STRICT, `pitch ${run}`);
    await eventually(
      'the rejection notice in yo@’s store',
      async () => (await storedSubjects(mi, YO)).includes('Automatically rejected mail'),
      90_000,
      500,
    );
    const inbox = await readMailbox('imap', mi.imap, YO, yoPassword);
    const replies = inbox.filter((m) => headerValues(m, 'subject')[0] === 'Out of office');
    assert.equal(replies.length, 1, 'one vacation reply per sender per period');
    const reply = replies[0]!;
    assert.equal(headerValues(reply, 'auto-submitted')[0], 'auto-replied');
    assert.match(headerValues(reply, 'from')[0] ?? '', new RegExp(AWAY));
    // miemail.test's MX verified suemail.test's DKIM signature on the reply; its Return-Path is empty.
    assert.match(headerValues(reply, 'authentication-results')[0] ?? '', /dkim=pass/);
    const notice = inbox.find((m) => headerValues(m, 'subject')[0] === 'Automatically rejected mail')!;
    assert.match(notice, /report-type=disposition-notification/);
    assert.match(notice, /I take no mail from strangers\./);
    assert.deepEqual(await storedSubjects(su, STRICT), [], 'the rejected message is not filed');
  });

  test('a message from an unverifiable sender (no SPF, DKIM or DMARC pass) to the rejecting account is discarded without a notice', async () => {
    const before = await sieveRuns(su, 'reject-suppressed');
    const sentBefore = await sieveRuns(su, 'reject-sent');
    // A forged reverse-path in a domain with no SPF or DMARC: what backscatter spam uses.
    const result = await swaks([
      '--server',
      su.ip,
      '--port',
      String(su.app.ports.mx),
      '--local-interface',
      FORGER_IP,
      '--from',
      `victim@nowhere-${run}.test`,
      '--to',
      STRICT,
      '--header',
      `Subject: forged ${run}`,
    ]);
    assert.equal(result.exitCode, 0, result.output);
    await eventually(
      'the suppression',
      async () => (await sieveRuns(su, 'reject-suppressed')) > before,
      60_000,
      500,
    );
    assert.equal(await sieveRuns(su, 'reject-sent'), sentBefore, 'no notice sent');
    assert.deepEqual(await storedSubjects(su, STRICT), [], 'and nothing filed');
  });
});
