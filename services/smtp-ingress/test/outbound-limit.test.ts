import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Limits } from '@correo/limits';
import { pythonSmtp, uniqueName } from '@correo/testkit';
import type { SmtpIngress } from '../src/index.js';
import {
  OTHER_USER,
  PASSWORD,
  USER,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

const OUTBOUND_LIMITED =
  '450 4.7.1 Outbound limit of yo@local.test reached (3 messages per hour), try again later';

// Authenticated submission to remote recipients counts against the account's hourly outbound
// limit (MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR) at RCPT, across two ingress "pods" over one Redis.
describe('smtp-ingress: hourly outbound limit of an account, across two pods sharing Redis', () => {
  let fixture: IngressFixture;
  const keyPrefix = `${uniqueName('smtp-outbound')}:`;
  const limitsClients: Limits[] = [];

  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
  });
  after(async () => {
    await fixture?.stop();
  });

  async function pod(): Promise<SmtpIngress> {
    const { ingress, limits } = await fixture.startRedisPod(
      keyPrefix,
      {},
      {
        outboundLimits: { perAccountPerHour: 3, perTenantPerHour: 0 },
      },
    );
    limitsClients.push(limits);
    return ingress;
  }

  /** One authenticated session (smtplib, STARTTLS) as `user` sending MAIL and these RCPTs. */
  async function rcpts(ingress: SmtpIngress, user: string, recipients: string[]): Promise<string[]> {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: ingress.ports.submission,
      mode: 'starttls',
      user,
      password: PASSWORD,
      commands: [`MAIL FROM:<${user}>`, ...recipients.map((r) => `RCPT TO:<${r}>`), 'RSET'],
    });
    assert.equal(result.error, undefined);
    // STARTTLS, AUTH, MAIL, then one reply per RCPT.
    return result.replies.slice(3, 3 + recipients.length).map(([code, text]) => `${code} ${text}`);
  }

  test('the fourth remote recipient in the hour is refused 450 4.7.1 on either pod; local mail and other accounts go on; the next hour it is accepted', async () => {
    const [a, b] = [await pod(), await pod()];
    const onA = await rcpts(a, USER, ['one@remote.test', 'two@remote.test']);
    assert.deepEqual(
      onA.map((r) => r.slice(0, 3)),
      ['250', '250'],
    );
    const onB = await rcpts(b, USER, ['three@remote.test', 'four@remote.test', OTHER_USER]);
    assert.match(onB[0]!, /^250 /);
    assert.equal(onB[1], OUTBOUND_LIMITED);
    assert.match(onB[2]!, /^250 /, 'a local recipient is not outbound');
    assert.equal((await rcpts(a, USER, ['five@remote.test']))[0], OUTBOUND_LIMITED, 'the other pod agrees');
    assert.match(
      (await rcpts(a, OTHER_USER, ['six@remote.test']))[0]!,
      /^250 /,
      'another account has its own',
    );

    // The hour is over (the window's counter expires: dropped here instead of waited for).
    await limitsClients[0]!.reset(`outbound:account:${USER}`);
    assert.match((await rcpts(b, USER, ['seven@remote.test']))[0]!, /^250 /);
  });
});
