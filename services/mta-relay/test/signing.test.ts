import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth';
import { createProvisioning } from '@correo/directory';
import { rotateDkimKey } from '@correo/dkim';
import { SubmissionKind, encodeMailAccepted, timestampFromDate } from '@correo/proto';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import { eventually } from '@correo/testkit';

const YO = `yo@${LOCAL_DOMAIN}`;
const OTHER_TENANT_DOMAIN = 'otro-inquilino.test';

/** The d= of every DKIM-Signature a remote MX received on a message, in order. */
function signingDomains(raw: Buffer): string[] {
  const header = raw
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n(?=[ \t])/g, '');
  return [...header.matchAll(/^DKIM-Signature:.*?\bd=([^;\s]+)/gim)].map((m) => m[1]!.toLowerCase());
}

describe('the relay signs only what a user of the owning tenant submitted (Postgres bus, file blobs)', () => {
  let stack: RelayStack;

  before(async () => {
    stack = await RelayStack.create('embedded');
    stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
    stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
    // Another tenant on the same system with a verified domain and an active key.
    const operator = createProvisioning(stack.pool);
    const other = await operator.createTenant({ name: `other-${randomUUID()}` });
    const domain = await operator.createDomain({
      name: OTHER_TENANT_DOMAIN,
      tenantId: other.id,
      verified: true,
    });
    const key = await rotateDkimKey(stack.pool, domain.id);
    stack.dns.set(key.dnsRecord.name, { TXT: [key.dnsRecord.strings] });
    // Mail from outside to this alias is forwarded to a remote mailbox.
    await operator.createAlias({ source: `reenvio@${LOCAL_DOMAIN}`, targets: ['el@suemail.test'] });
  });

  after(async () => {
    await stack?.close();
  });

  const received = (subject: string) =>
    eventually(
      `a message "${subject}" at the remote MX`,
      () => stack.remote.received.some((m) => m.raw.includes(`Subject: ${subject}`)),
      30_000,
    ).then(() => stack.remote.received.find((m) => m.raw.includes(`Subject: ${subject}`))!.raw);

  test("a From of another tenant's domain is delivered unsigned, never with that tenant's key", async () => {
    const jobId = await stack.sendJob({
      from: YO,
      headerFrom: `The CEO <ceo@${OTHER_TENANT_DOMAIN}>`,
      to: ['el@suemail.test'],
      subject: 'cross-tenant from',
    });
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    assert.deepEqual(signingDomains(await received('cross-tenant from')), []);
  });

  test('a From naming two authors is signed for neither', async () => {
    const jobId = await stack.sendJob({
      from: YO,
      headerFrom: `${YO}, ceo@${OTHER_TENANT_DOMAIN}`,
      to: ['el@suemail.test'],
      subject: 'two authors',
    });
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    assert.deepEqual(signingDomains(await received('two authors')), []);
  });

  test("the tenant's own domain in From is signed, and the signature verifies", async () => {
    const jobId = await stack.sendJob({ from: YO, to: ['el@suemail.test'], subject: 'own domain' });
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    const raw = await received('own domain');
    assert.deepEqual(signingDomains(raw), [LOCAL_DOMAIN]);
    const resolver = new Resolver();
    resolver.setServers([stack.dns.address]);
    const verified = await dkimVerify(raw, {
      resolver: async (name: string) => resolver.resolveTxt(name),
    });
    assert.equal(verified.results[0]!.status.result, 'pass');
  });

  test('mail that entered on MX and is forwarded by an alias keeps its own signature and gets none of ours', async () => {
    // A message from outside claiming our domain in From, already signed by its (outside) sender.
    const raw = Buffer.from(
      [
        'DKIM-Signature: v=1; a=rsa-sha256; d=fuera.test; s=s1; h=from; bh=x; b=y',
        `From: Yo <${YO}>`,
        `To: reenvio@${LOCAL_DOMAIN}`,
        'Subject: forwarded from outside',
        `Message-ID: <${randomUUID()}@fuera.test>`,
        '',
        'hola',
        '',
      ].join('\r\n'),
    );
    const blob = await stack.blobs.put(Readable.from([raw]));
    await stack.bus.publish(stack.settings.acceptedTopic, [
      {
        key: `reenvio@${LOCAL_DOMAIN}`,
        value: encodeMailAccepted({
          eventId: randomUUID(),
          receivedAt: timestampFromDate(new Date()),
          clientIp: '192.0.2.1',
          helo: 'mx.fuera.test',
          mailFrom: 'alguien@fuera.test',
          recipients: [{ address: `reenvio@${LOCAL_DOMAIN}` }],
          blobKey: blob.key,
          size: BigInt(blob.size),
          sha256: blob.sha256,
          kind: SubmissionKind.MX,
          port: 25,
        }),
      },
    ]);
    assert.deepEqual(signingDomains(await received('forwarded from outside')), ['fuera.test']);
  });
});
