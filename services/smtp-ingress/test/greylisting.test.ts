import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listDecisions } from '@correo/store';
import { CounterWatch, eventually, swaks, uniqueName } from '@correo/testkit';
import { ingressMetrics } from '../src/metrics.js';
import { OTHER_USER, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

// A short delay for the test; production's default is 300 seconds (docs/spam.md).
const GREYLISTING = {
  SMTP_GREYLISTING: 'true',
  SMTP_GREYLIST_DELAY_SECONDS: '1',
  SMTP_GREYLIST_ALLOW_SENDER_DOMAINS: 'trusted.test',
};

function send(port: number, from: string, to: string) {
  return swaks([
    '--server',
    '127.0.0.1',
    '--port',
    String(port),
    '--ehlo',
    'mail.sender.test',
    '--from',
    from,
    '--to',
    to,
    '--header',
    `Subject: greylisting ${uniqueName('msg')}`,
  ]);
}

const queued = (replies: string[]) => replies.map((r) => /queued as (\S+)/.exec(r)?.[1]).find(Boolean);

/**
 * Greylisting on MX (docs/spam.md): swaks, a real MTA-like client, is told 451 4.7.1 for an unknown
 * triplet, retries after the delay and is accepted; the message is handed on for delivery.
 */
describe('smtp-ingress: greylisting on the MX listener', () => {
  let fixture: IngressFixture;

  before(async () => {
    fixture = await startIngressFixture({ env: GREYLISTING });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('an unknown triplet gets 451 4.7.1; the retry after the delay is accepted and delivered; then it is known', async () => {
    const port = fixture.ingress.ports.mx;
    const verdicts = await CounterWatch.start(ingressMetrics.greylisting, 'result');
    const first = await send(port, 'news@sender.test', USER);
    assert.notEqual(first.exitCode, 0);
    assert.ok(
      first.replies.some((r) => /^451 4\.7\.1 Greylisted: .*try again in \d+ seconds/.test(r)),
      first.output,
    );

    // The MTA's retry: waits for the (test-short) delay by retrying, as a queue would.
    let accepted: Awaited<ReturnType<typeof send>> | undefined;
    await eventually(
      'the retry after the greylisting delay to be accepted',
      async () => {
        const retry = await send(port, 'news@sender.test', USER);
        if (retry.exitCode !== 0) {
          assert.ok(
            retry.replies.some((r) => r.startsWith('451 4.7.1 Greylisted')),
            retry.output,
          );
          return false;
        }
        accepted = retry;
        return true;
      },
      30_000,
      250,
    );
    const id = queued(accepted!.replies);
    assert.ok(id, accepted!.output);
    await eventually('the accepted message to be published for delivery', () =>
      fixture.events.some((e) => e.event.eventId === id),
    );
    const event = fixture.events.find((e) => e.event.eventId === id)!.event;
    assert.deepEqual(
      event.recipients.map((r) => r.address),
      [USER],
    );
    assert.match((await fixture.storedBytes(event)).toString(), /Subject: greylisting /);

    // Remembered: the next message of the triplet passes at once; a new recipient is a new triplet.
    const again = await send(port, 'news@sender.test', USER);
    assert.equal(again.exitCode, 0, again.output);
    const otherRecipient = await send(port, 'news@sender.test', OTHER_USER);
    assert.ok(
      otherRecipient.replies.some((r) => r.startsWith('451 4.7.1 ')),
      otherRecipient.output,
    );
    const added = await verdicts.added();
    assert.equal(added.passed, 1);
    assert.equal(added.known, 1);
    assert.ok(added.greylisted! >= 2);

    await fixture.ingress.flushDecisions();
    const recorded = await listDecisions(
      fixture.pool,
      { tenantId: null },
      { recipient: OTHER_USER, limit: 10 },
    );
    assert.deepEqual(
      recorded.map((d) => [d.stage, d.outcome, d.reason, d.mailFrom]),
      [['rcpt', 'greylisted', 'greylisted', 'news@sender.test']],
    );
    assert.match(recorded[0]!.detail, /^451 4\.7\.1 Greylisted/);
    const passed = await listDecisions(fixture.pool, { tenantId: null }, { recipient: USER, limit: 50 });
    assert.ok(passed.some((d) => d.outcome === 'accepted' && d.reason === 'greylist-passed'));
  });

  test('an allow-listed sender domain is not greylisted', async () => {
    const run = await send(fixture.ingress.ports.mx, 'alerts@trusted.test', USER);
    assert.equal(run.exitCode, 0, run.output);
  });

  test('the triplet is shared by two pods over Redis: greylisted on one, passed on the other', async () => {
    const keyPrefix = `${uniqueName('smtp-grey')}:`;
    const { ingress: a } = await fixture.startRedisPod(keyPrefix, GREYLISTING);
    const { ingress: b } = await fixture.startRedisPod(keyPrefix, GREYLISTING);
    const first = await send(a.ports.mx, 'pods@sender.test', USER);
    assert.ok(
      first.replies.some((r) => r.startsWith('451 4.7.1 Greylisted')),
      first.output,
    );
    await eventually(
      'the retry on the other pod to pass',
      async () => {
        const retry = await send(b.ports.mx, 'pods@sender.test', USER);
        return retry.exitCode === 0;
      },
      30_000,
      250,
    );
    const known = await send(a.ports.mx, 'pods@sender.test', USER);
    assert.equal(known.exitCode, 0, 'known on the first pod too');
  });
});
