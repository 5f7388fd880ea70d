import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { activeSieveScripts, MAX_SIEVE_SCRIPT_BYTES } from '@correo/store';
import { fetchClient, newTenantToken, useAdminApi } from './api-under-test.js';

const api = useAdminApi();

/** The account's active Sieve script, as the mda runs it at delivery (issue 14). */
describe('GET/PUT /v1/accounts/{id}/sieve', () => {
  test('replaces and reads the active script; a syntax error is a 400 with line and column; tenants stay apart', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenantToken = (name: string, domain: string) => newTenantToken(client, name, domain);
    const ours = await tenantToken(`t-${run}`, `ours-${run}.test`);
    const theirs = await tenantToken(`o-${run}`, `theirs-${run}.test`);
    const account = await client.call('POST', '/v1/accounts', {
      token: ours,
      body: { address: `rules@ours-${run}.test` },
    });
    assert.equal(account.status, 201);
    const path = `/v1/accounts/${account.body.id}/sieve`;

    const none = await client.call('GET', path, { token: ours });
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'not_found');

    const script = 'require "fileinto";\nif header :contains "subject" "[list]" { fileinto "Lists"; }\n';
    const put = await client.call('PUT', path, { token: ours, body: { script } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.script, script);
    const read = await client.call('GET', path, { token: ours });
    assert.equal(read.status, 200);
    assert.equal(read.body.script, script);
    const active = await activeSieveScripts(api().pool, [account.body.id]);
    assert.equal(active.get(account.body.id)?.content, script, 'what the mda will run');

    const broken = await client.call('PUT', path, {
      token: ours,
      body: { script: 'require "fileinto";\nif true {\n  fileinto "x"\n}\n' },
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, 'invalid_script');
    const [detail] = broken.body.error.details;
    assert.equal(detail.field, 'script');
    assert.equal(typeof detail.line, 'number');
    assert.equal(typeof detail.column, 'number');
    assert.ok(detail.line >= 3, `line ${detail.line}`);
    assert.equal(
      (await client.call('GET', path, { token: ours })).body.script,
      script,
      'a rejected script does not replace the active one',
    );

    const unknownExtension = await client.call('PUT', path, {
      token: ours,
      body: { script: 'require "x-nonsense";' },
    });
    assert.equal(unknownExtension.status, 400);
    assert.deepEqual(
      [unknownExtension.body.error.details[0].line, unknownExtension.body.error.details[0].column],
      [1, 9],
    );

    // Another tenant cannot see or replace it.
    assert.equal((await client.call('GET', path, { token: theirs })).status, 404);
    assert.equal(
      (await client.call('PUT', path, { token: theirs, body: { script: 'discard;' } })).status,
      404,
    );
    assert.equal((await client.call('GET', path, { token: ours })).body.script, script);
  });

  test('a script over the size limit is a 413 JSON error over HTTP, and the active script stays', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenant = (await client.call('POST', '/v1/tenants', { body: { name: `big-${run}` } })).body
      .id as string;
    await client.call('POST', '/v1/domains', { body: { name: `big-${run}.test`, tenantId: tenant } });
    const account = await client.call('POST', '/v1/accounts', { body: { address: `big@big-${run}.test` } });
    assert.equal(account.status, 201);
    const path = `/v1/accounts/${account.body.id}/sieve`;
    assert.equal((await client.call('PUT', path, { body: { script: 'keep;' } })).status, 200);

    // Just over the script limit (1 MiB), and far over it (past the request body limit too).
    const justOver = await client.call('PUT', path, {
      body: { script: `#${'x'.repeat(MAX_SIEVE_SCRIPT_BYTES)}` },
    });
    assert.deepEqual(justOver.body.error, {
      code: 'too_large',
      message: `the script is ${MAX_SIEVE_SCRIPT_BYTES + 1} bytes, at most ${MAX_SIEVE_SCRIPT_BYTES} are allowed`,
    });
    for (const bytes of [MAX_SIEVE_SCRIPT_BYTES + 1, 3 * MAX_SIEVE_SCRIPT_BYTES]) {
      const script = `# ${'x'.repeat(bytes - 3)}\n`;
      const response = await client.call('PUT', path, { body: { script } });
      assert.equal(response.status, 413, `${bytes} octets: ${JSON.stringify(response.body).slice(0, 200)}`);
      // The route's own check, or past the request body limit Fastify's (same status, JSON error too).
      assert.match(response.body.error.code, /^(too_large|ctp_body_too_large)$/, `${bytes} octets`);
      assert.equal(typeof response.body.error.message, 'string');
    }
    assert.equal((await client.call('GET', path)).body.script, 'keep;', 'the active script is unchanged');
  });
});
