import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DecisionWriter, pruneDecisions, recordDecisions } from '@correo/store';
import { runProgram } from '@correo/testkit';
import { ADMIN_TOKEN, fetchClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
const bin = fileURLToPath(new URL('../bin/correo-admin.js', import.meta.url));

/**
 * Why mail was refused, delayed or filed to Junk (issue 14): smtp-ingress and the mda record their
 * decisions, the operator reads all of them, a tenant only those about its own domains' recipients.
 */
describe('GET /v1/decisions', () => {
  test('filters by Message-ID, recipient, client address and time; tenants see their own domains only', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const ours = `ours-${run}.test`;
    const theirs = `theirs-${run}.test`;
    const tenant = (await client.call('POST', '/v1/tenants', { body: { name: `t-${run}` } })).body
      .id as string;
    const other = (await client.call('POST', '/v1/tenants', { body: { name: `o-${run}` } })).body
      .id as string;
    await client.call('POST', '/v1/domains', { body: { name: ours, tenantId: tenant } });
    await client.call('POST', '/v1/domains', { body: { name: theirs, tenantId: other } });
    const token = (await client.call('POST', '/v1/tokens', { body: { name: 'ops', tenantId: tenant } })).body
      .secret as string;

    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    const messageId = `<${randomUUID()}@sender.test>`;
    // Through the writer smtp-ingress uses: queued, batched, flushed.
    const writer = new DecisionWriter(api().pool);
    writer.record({
      service: 'smtp-ingress',
      listener: 'mx',
      stage: 'connect',
      outcome: 'rejected',
      reason: 'dnsbl',
      detail: '554 5.7.1 Client address listed by bl.test',
      clientIp: ip,
      helo: '',
      symbols: { 'RBL_bl.test': '127.0.0.2' },
    });
    writer.record({
      service: 'smtp-ingress',
      listener: 'mx',
      stage: 'rcpt',
      outcome: 'greylisted',
      reason: 'greylist',
      detail: '451 4.7.1 Greylisted, try again in 300 seconds',
      clientIp: ip,
      helo: 'mail.sender.test',
      mailFrom: 'someone@sender.test',
      recipients: [`Yo@${ours}`],
    });
    await writer.flush();
    await recordDecisions(api().pool, [
      {
        service: 'mda',
        stage: 'delivery',
        outcome: 'junk',
        reason: 'dmarc-quarantine',
        detail: 'DMARC fail for sender.test (p=quarantine): filed to Junk',
        clientIp: ip,
        helo: 'mail.sender.test',
        mailFrom: 'someone@sender.test',
        recipients: [`yo@${ours}`, `else@${theirs}`],
        messageId,
        eventId: randomUUID(),
        score: 6.5,
        symbols: { DMARC_POLICY_QUARANTINE: 1 },
      },
    ]);

    const byIp = await client.call('GET', `/v1/decisions?clientIp=${ip}`);
    assert.equal(byIp.status, 200);
    assert.deepEqual(
      byIp.body.items.map((d: { stage: string; outcome: string; reason: string }) => [
        d.stage,
        d.outcome,
        d.reason,
      ]),
      [
        ['delivery', 'junk', 'dmarc-quarantine'],
        ['rcpt', 'greylisted', 'greylist'],
        ['connect', 'rejected', 'dnsbl'],
      ],
      'newest first',
    );
    const connect = byIp.body.items[2];
    assert.equal(connect.mailFrom, null, 'refused before MAIL FROM');
    assert.deepEqual(connect.symbols, { 'RBL_bl.test': '127.0.0.2' });
    assert.equal(byIp.body.items[0].score, 6.5);

    const byMessage = await client.call('GET', `/v1/decisions?messageId=${encodeURIComponent(messageId)}`);
    assert.deepEqual(
      byMessage.body.items.map((d: { reason: string }) => d.reason),
      ['dmarc-quarantine'],
    );
    const byRecipient = await client.call(
      'GET',
      `/v1/decisions?recipient=${encodeURIComponent(`YO@${ours}`)}`,
    );
    assert.deepEqual(
      byRecipient.body.items.map((d: { reason: string }) => d.reason),
      ['dmarc-quarantine', 'greylist'],
      'recipients are matched without regard to case',
    );
    const future = await client.call(
      'GET',
      `/v1/decisions?clientIp=${ip}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    assert.deepEqual(future.body.items, []);
    const limited = await client.call('GET', `/v1/decisions?clientIp=${ip}&limit=1`);
    assert.equal(limited.body.items.length, 1);

    const own = await client.call('GET', `/v1/decisions?clientIp=${ip}`, { token });
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.body.items.map((d: { reason: string }) => d.reason),
      ['dmarc-quarantine', 'greylist'],
      'a tenant sees no connect-time refusal (it names none of its recipients)',
    );
    const otherToken = (await client.call('POST', '/v1/tokens', { body: { name: 'o', tenantId: other } }))
      .body.secret as string;
    const theirsView = await client.call('GET', `/v1/decisions?clientIp=${ip}`, { token: otherToken });
    assert.deepEqual(
      theirsView.body.items.map((d: { reason: string }) => d.reason),
      ['dmarc-quarantine'],
    );

    const bad = await client.call('GET', '/v1/decisions?since=yesterday');
    assert.equal(bad.status, 400);
    const unknown = await client.call('GET', '/v1/decisions?colour=red');
    assert.equal(unknown.status, 400);

    // The CLI prints the same, one line each.
    const cli = await runProgram(process.execPath, [bin, 'decisions', '--client-ip', ip], {
      env: { CORREO_API_URL: api().baseUrl, CORREO_API_TOKEN: ADMIN_TOKEN },
      timeoutMs: 30_000,
    });
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[2]!,
      /\tconnect\trejected\tdnsbl\t192\.0\.2\.\d+\t554 5\.7\.1 Client address listed by bl\.test$/,
    );
    assert.match(lines[0]!, /\tdelivery\tjunk\tdmarc-quarantine score 6\.5\t/);

    // Retention: housekeeping deletes what is older than the cut-off.
    await recordDecisions(api().pool, [
      {
        at: new Date(Date.now() - 40 * 86_400_000),
        service: 'smtp-ingress',
        stage: 'rcpt',
        outcome: 'rejected',
        reason: 'old',
        detail: 'long ago',
        clientIp: ip,
      },
    ]);
    assert.ok((await pruneDecisions(api().pool, new Date(Date.now() - 30 * 86_400_000))) >= 1);
    const kept = await client.call('GET', `/v1/decisions?clientIp=${ip}`);
    assert.equal(kept.body.items.length, 3);
  });
});
