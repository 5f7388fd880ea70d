import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createPostgresDirectory } from '@correo/directory';
import { archiveDeadLetter } from '@correo/store';
import { eventually, runProgram, startReadyService, UNANSWERED_DNS, uniqueName } from '@correo/testkit';
import type { ServiceProcess } from '@correo/testkit';
import { openTestStack } from '@correo/testkit/stack';
import type { TestStack } from '@correo/testkit/stack';

// What the Helm chart runs: src/main.ts as a process of its own, configured only by environment
// (the chart's), on the shared PostgreSQL and Kafka, used by curl as an operator would. A main.ts
// that wired a wrong database, token or bus would fail here, where app.inject() cannot tell.

const TOKEN = `main-test-${randomBytes(16).toString('hex')}`;

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of the API under test
  body: any;
}

describe('admin-api src/main.ts as the chart runs it (PostgreSQL, Kafka)', () => {
  let stack: TestStack;
  let service: ServiceProcess | undefined;

  before(async () => {
    stack = await openTestStack('distributed', { blobsAtRoot: true });
  });
  after(async () => {
    await service?.process.stop('SIGKILL');
    await stack.close();
  });

  /** One request by curl; the status and the JSON body. */
  async function curlJson(method: string, path: string, body?: unknown, token = TOKEN): Promise<Answer> {
    const run = await runProgram('curl', [
      '-sS',
      '--max-time',
      '30',
      '-X',
      method,
      '-H',
      `Authorization: Bearer ${token}`,
      ...(body === undefined ? [] : ['-H', 'Content-Type: application/json', '--data', JSON.stringify(body)]),
      '-w',
      '\n%{http_code}',
      `${service!.listeners['admin-api']}${path}`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const at = run.stdout.lastIndexOf('\n');
    const text = run.stdout.slice(0, at);
    return { status: Number(run.stdout.slice(at + 1)), body: text ? JSON.parse(text) : undefined };
  }

  test('curl provisions a tenant, domain and account, replays a dead letter onto Kafka; SIGTERM exits 0', async () => {
    service = await startReadyService('admin-api', {
      ...stack.env(),
      ADMIN_TOKEN: TOKEN,
      ADMIN_API_HOST: '127.0.0.1',
      ADMIN_API_PORT: '0',
      ADMIN_DNS_SERVERS: UNANSWERED_DNS,
    });

    const refused = await curlJson('GET', '/v1/domains', undefined, 'not-the-token');
    assert.equal(refused.status, 401, JSON.stringify(refused.body));

    const tenant = await curlJson('POST', '/v1/tenants', { name: uniqueName('main-tenant') });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    const domainName = `${uniqueName('main').toLowerCase()}.test`;
    const domain = await curlJson('POST', '/v1/domains', {
      name: domainName,
      tenantId: tenant.body.id,
      verified: true,
    });
    assert.equal(domain.status, 201, JSON.stringify(domain.body));
    const address = `yo@${domainName}`;
    const account = await curlJson('POST', '/v1/accounts', { address, password: 'a long enough password' });
    assert.equal(account.status, 201, JSON.stringify(account.body));
    // Written to the database the stack reads: the directory there authenticates the account.
    assert.ok(await createPostgresDirectory(stack.pool).authenticate(address, 'a long enough password'));

    // A dead letter replayed through the process lands on the Kafka topic it came from.
    const topic = uniqueName('mail.accepted');
    await stack.bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const watch = await stack.watch(topic);
    const key = randomBytes(4).toString('hex');
    await archiveDeadLetter(stack.pool, {
      group: 'mda',
      topic,
      partition: 0,
      offset: '7',
      key,
      headers: {},
      value: Buffer.from(`event ${key}`),
      error: 'cannot parse MIME structure',
      attempts: 5,
      failedAt: new Date(),
    });
    const letters = await curlJson('GET', '/v1/dead-letters');
    const letter = letters.body.items.find((item: { key: string }) => item.key === key);
    assert.ok(letter, JSON.stringify(letters.body));
    const replayed = await curlJson('POST', `/v1/dead-letters/${letter.id}/replay`);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    await eventually('the replayed event on Kafka', () =>
      watch.messages.some((message) => Buffer.from(message.value).toString() === `event ${key}`),
    );

    assert.deepEqual(await service.process.stop('SIGTERM'), { code: 0, signal: null });
  });
});
