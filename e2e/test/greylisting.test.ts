import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { eventually, runProgram, startAllInOneProcess, swaks, UNANSWERED_DNS } from '@correo/testkit';
import type { AllInOneProcess } from '@correo/testkit';

/** Lists INBOX subjects over IMAPS (imaplib, the certificate verified). */
const LIST_SUBJECTS = `
import imaplib, json, ssl, sys
host, port, user, password, ca = sys.argv[1:6]
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca))
imap.login(user, password)
imap.select('INBOX', readonly=True)
_, data = imap.search(None, 'ALL')
subjects = []
for num in data[0].split():
    _, parts = imap.fetch(num, '(BODY.PEEK[HEADER.FIELDS (SUBJECT X-CORREO-SENDER-CHECKS)])')
    subjects.append(parts[0][1].decode())
imap.logout()
print(json.dumps(subjects))
`;

/**
 * Greylisting end to end in the all-in-one (docs/spam.md): swaks gets 451 4.7.1 for an unknown
 * triplet on the MX port, retries after the (test-short) delay, the message is delivered to the
 * mailbox (read back over IMAP), and the greylisting is visible in admin-api's decisions and in
 * the metrics.
 */
describe('greylisting in the all-in-one: 451, retry, delivered', () => {
  let app: AllInOneProcess;

  before(async () => {
    app = await startAllInOneProcess({
      env: { SMTP_GREYLISTING: 'true', SMTP_GREYLIST_DELAY_SECONDS: '1', SMTP_DNS_SERVERS: UNANSWERED_DNS },
    });
  });
  after(async () => {
    await app?.stop();
  });

  test('swaks is greylisted, retries after the delay and the message lands in INBOX', async () => {
    const subject = `greylisted ${randomBytes(4).toString('hex')}`;
    const send = () =>
      swaks([
        '--server',
        app.host,
        '--port',
        String(app.ports.mx),
        '--ehlo',
        'mail.sender.test',
        '--from',
        'news@sender.test',
        '--to',
        app.demo.address,
        '--header',
        `Subject: ${subject}`,
      ]);
    const first = await send();
    assert.notEqual(first.exitCode, 0);
    assert.ok(
      first.replies.some((r) => /^451 4\.7\.1 Greylisted: .*try again in \d+ seconds/.test(r)),
      first.output,
    );
    await eventually(
      'the retry after the greylisting delay to be accepted',
      async () => (await send()).exitCode === 0,
      30_000,
      250,
    );

    await eventually('the message to be in INBOX', async () => {
      const listed = await runProgram('python3', [
        '-c',
        LIST_SUBJECTS,
        app.host,
        String(app.ports.imaps),
        app.demo.address,
        app.demo.password,
        app.caFile,
      ]);
      assert.equal(listed.code, 0, listed.stderr);
      return (JSON.parse(listed.stdout) as string[]).some((header) => header.includes(subject));
    });

    const response = await fetch(
      `${app.adminUrl}/v1/decisions?recipient=${encodeURIComponent(app.demo.address)}&clientIp=127.0.0.1`,
      { headers: { authorization: `Bearer ${app.adminToken}` } },
    );
    assert.equal(response.status, 200);
    const { items } = (await response.json()) as {
      items: { outcome: string; reason: string; detail: string }[];
    };
    assert.ok(
      items.some((d) => d.outcome === 'greylisted' && /^451 4\.7\.1 Greylisted/.test(d.detail)),
      JSON.stringify(items),
    );
    assert.ok(items.some((d) => d.outcome === 'accepted' && d.reason === 'greylist-passed'));

    const metrics = await app.metrics();
    assert.match(metrics, /^correo_smtp_greylisting_total\{result="passed"\} 1$/m);
    assert.match(metrics, /^correo_smtp_decisions_total\{[^}]*outcome="greylisted"[^}]*\} [1-9]/m);
  });
});
