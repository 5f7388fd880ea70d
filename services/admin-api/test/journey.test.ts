import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  archiveDeadLetter,
  claimNewRelayJob,
  deferRelayJob,
  deliverToMailbox,
  recordAcceptedMessages,
  recordRejection,
  recordRelayOutcomes,
} from '@correo/store';
import type { MessageFacts } from '@correo/store';
import { messageFacts, writerFor } from '@correo/store/testing';
import { runProgram } from '@correo/testkit';
import { ADMIN_TOKEN, fetchClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
const bin = fileURLToPath(new URL('../bin/correo-admin.js', import.meta.url));

/** A stored copy's facts with the Message-ID a lookup finds it by. */
function facts(messageId: string): MessageFacts {
  const plain = messageFacts('a'.repeat(64), 120);
  return { ...plain, messageId, sortKeys: { ...plain.sortKeys, messageId } };
}

/**
 * "Where is my mail?" in one request: what each stage recorded about one accepted message (filed,
 * rejected, relayed with the remote's reply, deferred with its next attempt, still in transit,
 * dead-lettered), read back through GET /v1/messages/{id}/journey and `correo-admin journey`,
 * and scoped by tenant like every admin route.
 */
describe('GET /v1/messages/{id}/journey', () => {
  test("each recipient's fate, by event id and by Message-ID; tenants see only their own", async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const ours = `ours-${run}.test`;
    const theirs = `theirs-${run}.test`;
    const tenantOf = async (name: string, domain?: string) => {
      const id = (await client.call('POST', '/v1/tenants', { body: { name } })).body.id as string;
      if (domain) {
        const created = await client.call('POST', '/v1/domains', { body: { name: domain, tenantId: id } });
        assert.equal(created.status, 201);
      }
      const token = (await client.call('POST', '/v1/tokens', { body: { name: 'ops', tenantId: id } })).body
        .secret as string;
      return token;
    };
    const oursToken = await tenantOf(`ours-${run}`, ours);
    const theirsToken = await tenantOf(`theirs-${run}`, theirs);
    // An internationalised domain of the same tenant: mail to it is addressed in Unicode.
    const idn = `ñandú-${run}.test`;
    const theirsId = (await client.call('GET', `/v1/domains?limit=200`)).body.items.find(
      (domain: { name: string; tenantId: string }) => domain.name === theirs,
    ).tenantId;
    assert.equal(
      (await client.call('POST', '/v1/domains', { body: { name: idn, tenantId: theirsId } })).status,
      201,
    );
    const strangerToken = await tenantOf(`stranger-${run}`, `stranger-${run}.test`);
    const account = await client.call('POST', '/v1/accounts', {
      body: { address: `ana@${ours}`, password: 'a long enough password' },
    });
    assert.equal(account.status, 201);

    const envelope = [
      `Ana@${ours}`,
      `gone@${ours}`,
      'bob@remote.test',
      `list@${ours}`,
      `zoe@${theirs}`,
      `pepe@${idn}`,
      'carl@busy.test',
    ];
    const eventId = randomUUID();
    const messageId = `<${run}.journey@${ours}>`;
    const relayedJob = randomUUID();
    const deferredJob = randomUUID();
    const busyJob = randomUUID();
    const traceId = randomBytes(16).toString('hex');
    await recordAcceptedMessages(api().pool, [
      {
        eventId,
        receivedAt: new Date('2026-12-04T10:00:00Z'),
        kind: 'submission',
        port: 587,
        clientIp: '192.0.2.7',
        helo: 'laptop.example',
        authenticatedUser: `ana@${ours}`,
        mailFrom: `ana@${ours}`,
        recipients: envelope,
        size: 120,
        authenticationResults: `mx.${ours}; auth=pass smtp.auth=ana@${ours}`,
        authentication: [{ method: 'auth', result: 'pass', reason: '' }],
        messageId: null,
        relayJobs: [
          {
            jobId: relayedJob,
            domain: 'remote.test',
            targets: [{ recipient: 'bob@remote.test', address: 'bob@remote.test' }],
          },
          {
            jobId: busyJob,
            domain: 'busy.test',
            targets: [{ recipient: 'carl@busy.test', address: 'carl@busy.test' }],
          },
          {
            jobId: deferredJob,
            domain: 'later.test',
            targets: [{ recipient: `list@${ours}`, address: 'max@later.test' }],
          },
        ],
        traceId,
      },
    ]);
    const filed = await deliverToMailbox(writerFor(api().pool), {
      eventId,
      recipient: `ana@${ours}`,
      accountId: account.body.id as string,
      message: facts(messageId),
    });
    assert.equal(filed.kind, 'delivered');
    await recordRejection(api().pool, {
      eventId,
      recipient: `gone@${ours}`,
      reason: 'unknown-user',
      detail: 'no account or alias takes this address',
    });
    await recordRelayOutcomes(api().pool, relayedJob, 1, [
      { recipient: 'bob@remote.test', outcome: 'delivered', reply: '250 2.0.0 Ok: queued as 4XyZ' },
    ]);
    const nextAttemptAt = new Date('2026-12-04T10:05:00Z');
    await deferRelayJob(api().pool, {
      jobId: deferredJob,
      originalEventId: eventId,
      mailFrom: `ana@${ours}`,
      destinationDomain: 'later.test',
      job: new Uint8Array([1]),
      blobKey: facts(messageId).blobKey,
      attempts: 2,
      queuedAt: new Date('2026-12-04T10:00:00Z'),
      nextAttemptAt,
      expiresAt: new Date('2026-12-09T10:00:00Z'),
      lastError: 'greylisted',
      recipients: [{ recipient: 'max@later.test', reply: '451 4.7.1 Greylisted, try again later' }],
    });
    // A relay holds this one right now: its first attempt is under way.
    const claimed = await claimNewRelayJob(
      api().pool,
      {
        jobId: busyJob,
        originalEventId: eventId,
        mailFrom: `ana@${ours}`,
        destinationDomain: 'busy.test',
        job: new Uint8Array([1]),
        queuedAt: new Date(),
        expiresAt: new Date(Date.now() + 86_400_000),
        blobKey: facts(messageId).blobKey,
        recipients: ['carl@busy.test'],
      },
      3_600_000,
    );
    assert.ok(claimed);
    await archiveDeadLetter(api().pool, {
      group: 'mda',
      topic: 'mail.outbound.dlq',
      partition: 0,
      offset: String(Date.now()),
      key: 'later.test',
      headers: {},
      value: Buffer.from(`\n\u0024${eventId}`),
      error: 'boom',
      attempts: 5,
      failedAt: new Date(),
    });

    const operator = await client.call('GET', `/v1/messages/${eventId}/journey`);
    assert.equal(operator.status, 200, JSON.stringify(operator.body));
    const [journey] = operator.body.journeys;
    assert.equal(operator.body.journeys.length, 1);
    assert.equal(journey.eventId, eventId);
    assert.equal(journey.accepted.clientIp, '192.0.2.7');
    assert.equal(journey.accepted.port, 587);
    assert.equal(journey.accepted.authenticatedUser, `ana@${ours}`);
    assert.equal(journey.accepted.traceId, traceId);
    const fates = Object.fromEntries(
      journey.recipients.map((r: { recipient: string; fates: unknown[] }) => [r.recipient, r.fates]),
    );
    // In envelope order, lowercased.
    assert.deepEqual(
      Object.keys(fates),
      envelope.map((r) => r.toLowerCase()),
    );
    assert.equal(fates[`ana@${ours}`][0].kind, 'filed');
    assert.equal(fates[`ana@${ours}`][0].mailbox, 'INBOX');
    assert.equal(fates[`ana@${ours}`][0].uid, 1);
    assert.equal(fates[`gone@${ours}`][0].reason, 'unknown-user');
    assert.equal(fates['bob@remote.test'][0].kind, 'relayed');
    assert.equal(fates['bob@remote.test'][0].reply, '250 2.0.0 Ok: queued as 4XyZ');
    assert.equal(fates[`list@${ours}`][0].kind, 'deferred');
    assert.equal(fates[`list@${ours}`][0].forwarded, true);
    assert.equal(fates[`list@${ours}`][0].address, 'max@later.test');
    assert.equal(Date.parse(fates[`list@${ours}`][0].nextAttemptAt), nextAttemptAt.getTime());
    assert.deepEqual(fates[`zoe@${theirs}`], []);
    assert.equal(fates['carl@busy.test'][0].kind, 'attempting');
    assert.equal(journey.deadLetters.length, 1);
    assert.equal(journey.deadLetters[0].topic, 'mail.outbound.dlq');

    // The Message-ID of the stored copy finds the same journey, with or without angle brackets.
    for (const form of [messageId, messageId.slice(1, -1)]) {
      const byHeader = await client.call('GET', `/v1/messages/${encodeURIComponent(form)}/journey`);
      assert.equal(byHeader.status, 200);
      assert.deepEqual(
        byHeader.body.journeys.map((j: { eventId: string }) => j.eventId),
        [eventId],
      );
    }

    // The sender's tenant sees every recipient but no dead letters (those are the operator's).
    const sender = await client.call('GET', `/v1/messages/${eventId}/journey`, { token: oursToken });
    assert.equal(sender.status, 200);
    assert.equal(sender.body.journeys[0].recipients.length, envelope.length);
    assert.deepEqual(sender.body.journeys[0].deadLetters, []);
    // A recipient's tenant sees the acceptance and only its own recipients.
    const recipient = await client.call('GET', `/v1/messages/${eventId}/journey`, { token: theirsToken });
    assert.equal(recipient.status, 200);
    assert.deepEqual(
      recipient.body.journeys[0].recipients.map((r: { recipient: string }) => r.recipient),
      [`zoe@${theirs}`, `pepe@${idn}`],
    );
    assert.deepEqual(recipient.body.journeys[0].accepted.recipients, [`zoe@${theirs}`, `pepe@${idn}`]);
    // Any other tenant: as if the message did not exist.
    for (const id of [eventId, encodeURIComponent(messageId)]) {
      const stranger = await client.call('GET', `/v1/messages/${id}/journey`, { token: strangerToken });
      assert.equal(stranger.status, 404);
      assert.equal(stranger.body.error.code, 'not_found');
    }
    assert.equal((await client.call('GET', `/v1/messages/${randomUUID()}/journey`)).status, 404);

    // The operator's one command.
    const cli = await runProgram(process.execPath, [bin, 'journey', eventId], {
      env: {
        CORREO_API_URL: api().baseUrl,
        CORREO_API_TOKEN: ADMIN_TOKEN,
      },
    });
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.split('\n');
    assert.ok(lines.includes(`event ${eventId}`), cli.stdout);
    assert.match(
      cli.stdout,
      /accepted 2026-12-04T10:00:00\.000Z on submission port 587 from 192\.0\.2\.7 \(helo laptop\.example\) as ana@/,
    );
    assert.match(cli.stdout, new RegExp(`trace ${traceId}`));
    assert.match(cli.stdout, new RegExp(`ana@${ours}: filed into INBOX of ana@${ours} uid 1 at `));
    assert.match(cli.stdout, new RegExp(`gone@${ours}: rejected \\(unknown-user\\)`));
    assert.match(
      cli.stdout,
      /bob@remote\.test: relayed after 1 attempt\(s\) at .*: 250 2\.0\.0 Ok: queued as 4XyZ/,
    );
    assert.match(
      cli.stdout,
      new RegExp(
        `list@${ours}: forwarded to max@later\\.test, deferred after 2 attempt\\(s\\), next attempt at 2026-12-04T10:05:00\\.000Z: 451 4\\.7\\.1 Greylisted`,
      ),
    );
    assert.match(cli.stdout, new RegExp(`zoe@${theirs}: in transit`));
    assert.match(cli.stdout, /carl@busy\.test: being relayed now \(attempt 1\)$/m);
    assert.match(cli.stdout, /dead-lettered on mail\.outbound\.dlq .*: boom/);

    const missing = await runProgram(process.execPath, [bin, 'journey', randomUUID()], {
      env: {
        CORREO_API_URL: api().baseUrl,
        CORREO_API_TOKEN: strangerToken,
      },
    });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not_found|no message/);
  });
});
