import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseScript, runScript } from '@correo/sieve';
import { activeSieveScripts, listSieveScripts, putSieveScript } from '@correo/store';
import { fetchClient, newTenantToken, useAdminApi } from './api-under-test.js';

const api = useAdminApi();

/** The vacation form over HTTP: it writes Sieve into the active script the mda runs (issue 14). */
describe('GET/PUT /v1/accounts/{id}/vacation', () => {
  test('writes the form into the active script, keeps the hand-written part, reads it back; tenants stay apart', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenantToken = (name: string, domain: string) => newTenantToken(client, name, domain);
    const ours = await tenantToken(`t-${run}`, `ours-${run}.test`);
    const theirs = await tenantToken(`o-${run}`, `theirs-${run}.test`);
    const address = `away@ours-${run}.test`;
    const account = await client.call('POST', '/v1/accounts', { token: ours, body: { address } });
    assert.equal(account.status, 201);
    const path = `/v1/accounts/${account.body.id}/vacation`;

    const none = await client.call('GET', path, { token: ours });
    assert.equal(none.status, 200);
    assert.deepEqual(none.body, { vacation: null, edited: false });

    // A hand-written script first: the form must leave it alone.
    const own = 'require "fileinto";\nif header :contains "subject" "[list]" { fileinto "Lists"; }\n';
    const sieve = `/v1/accounts/${account.body.id}/sieve`;
    assert.equal((await client.call('PUT', sieve, { token: ours, body: { script: own } })).status, 200);

    const form = {
      enabled: true,
      subject: 'Out of office "till" Monday',
      body: 'I am away.\n.\nBack on Monday \\ really.',
      days: 3,
      addresses: [`other@ours-${run}.test`],
    };
    const put = await client.call('PUT', path, { token: ours, body: form });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { vacation: { ...form, from: '' }, edited: false });
    assert.deepEqual((await client.call('GET', path, { token: ours })).body, put.body);

    // What the mda runs: the user's rule and the vacation reply, both.
    const script = (await activeSieveScripts(api().pool, [account.body.id])).get(account.body.id)!.content;
    assert.ok(script.startsWith('require "fileinto";\n# correo-forms v1 '), script);
    assert.ok(script.endsWith('if header :contains "subject" "[list]" { fileinto "Lists"; }\n'), script);
    const { actions } = runScript(parseScript(script), {
      headers: [
        { name: 'From', value: 'friend@example.com' },
        { name: 'To', value: address },
        { name: 'Subject', value: '[list] hello' },
      ],
      envelope: { from: 'friend@example.com', to: address },
      size: 100,
    });
    assert.deepEqual(
      actions.map((a) =>
        a.type === 'vacation' ? `vacation ${a.subject} ${JSON.stringify(a.reason)}` : a.type,
      ),
      [
        'vacation Out of office "till" Monday "I am away.\\r\\n.\\r\\nBack on Monday \\\\ really.\\r\\n"',
        'fileinto',
      ],
    );

    // Turned off: the text stays in the form, no reply is due.
    const off = await client.call('PUT', path, { token: ours, body: { ...form, enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.body.vacation.body, form.body);
    const offScript = (await client.call('GET', sieve, { token: ours })).body.script as string;
    assert.ok(!/^vacation /m.test(offScript), offScript);
    assert.ok(offScript.endsWith(own.slice('require "fileinto";\n'.length)));

    // Bad input: 400 JSON naming the field; nothing written.
    const bad = await client.call('PUT', path, {
      token: ours,
      body: { ...form, from: 'not an address' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    const injected = await client.call('PUT', path, { token: ours, body: { ...form, body: 'price: ${x}' } });
    assert.equal(injected.status, 400);
    assert.equal(injected.body.error.code, 'invalid_form');
    assert.equal(injected.body.error.details[0].field, 'body');
    const unknown = await client.call('PUT', path, { token: ours, body: { ...form, script: 'discard;' } });
    assert.equal(unknown.status, 400);
    const dates = await client.call('PUT', path, {
      token: ours,
      body: { ...form, start: '2026-05-02', end: '2026-05-01' },
    });
    assert.equal(dates.status, 400);
    assert.equal(dates.body.error.details[0].field, 'end');
    assert.equal((await client.call('GET', sieve, { token: ours })).body.script, offScript);

    // Another tenant cannot see or set it.
    assert.equal((await client.call('GET', path, { token: theirs })).status, 404);
    assert.equal((await client.call('PUT', path, { token: theirs, body: form })).status, 404);
    assert.equal((await client.call('GET', sieve, { token: ours })).body.script, offScript);
  });

  test("with no active script, the form's new script does not overwrite an inactive one of the same name", async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenantId = (await client.call('POST', '/v1/tenants', { body: { name: `n-${run}` } })).body.id;
    await client.call('POST', '/v1/domains', { body: { name: `names-${run}.test`, tenantId } });
    const account = (await client.call('POST', '/v1/accounts', { body: { address: `me@names-${run}.test` } }))
      .body.id as string;
    // Uploaded over ManageSieve and never activated: the user's own.
    await putSieveScript(api().pool, account, 'correo', 'keep;', { activate: false });
    const put = await client.call('PUT', `/v1/accounts/${account}/vacation`, {
      body: { enabled: true, body: 'Away.' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const scripts = await listSieveScripts(api().pool, account);
    assert.deepEqual(
      scripts.map((s) => [s.name, s.active, s.content === 'keep;']),
      [
        ['correo', false, true],
        ['correo-2', true, false],
      ],
    );
  });

  test('an account without any script gets one holding only the form', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenantId = (await client.call('POST', '/v1/tenants', { body: { name: `s-${run}` } })).body.id;
    const domain = await client.call('POST', '/v1/domains', { body: { name: `solo-${run}.test`, tenantId } });
    assert.equal(domain.status, 201, JSON.stringify(domain.body));
    const account = await client.call('POST', '/v1/accounts', { body: { address: `me@solo-${run}.test` } });
    const put = await client.call('PUT', `/v1/accounts/${account.body.id}/vacation`, {
      body: { enabled: true, body: 'Away.', start: '2026-01-01', end: '2026-01-31', zone: '+0100' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const script = (await client.call('GET', `/v1/accounts/${account.body.id}/sieve`)).body.script as string;
    assert.match(script, /^require \["date", "relational", "vacation"\];$/m);
    assert.match(script, /currentdate :zone "\+0100" :value "ge" "date" "2026-01-01"/);
  });
});
