import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAdminApi } from './api-under-test.js';

const api = useAdminApi();

test('the OpenAPI document at /docs/json lists every route with its schemas', async () => {
  const response = await fetch(`${api().baseUrl}/docs/json`);
  assert.equal(response.status, 200);
  const doc = (await response.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    components: { securitySchemes: Record<string, unknown> };
  };
  assert.match(doc.openapi, /^3\./);
  assert.ok(doc.components.securitySchemes.bearer);

  const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const expected = [
    'POST /v1/tenants',
    'GET /v1/tenants',
    'GET /v1/tenants/{id}',
    'PATCH /v1/tenants/{id}',
    'DELETE /v1/tenants/{id}',
    'POST /v1/domains',
    'GET /v1/domains',
    'GET /v1/domains/{id}',
    'DELETE /v1/domains/{id}',
    'POST /v1/domains/{id}/verify',
    'POST /v1/accounts',
    'GET /v1/accounts',
    'GET /v1/accounts/{id}',
    'PATCH /v1/accounts/{id}',
    'PUT /v1/accounts/{id}/password',
    'DELETE /v1/accounts/{id}',
    'POST /v1/accounts/{id}/send-as',
    'GET /v1/accounts/{id}/send-as',
    'DELETE /v1/accounts/{id}/send-as/{grantId}',
    'GET /v1/accounts/{id}/sieve',
    'PUT /v1/accounts/{id}/sieve',
    'GET /v1/accounts/{id}/vacation',
    'PUT /v1/accounts/{id}/vacation',
    'POST /v1/aliases',
    'GET /v1/aliases',
    'GET /v1/aliases/{id}',
    'PATCH /v1/aliases/{id}',
    'DELETE /v1/aliases/{id}',
    'POST /v1/tokens',
    'GET /v1/tokens',
    'GET /v1/tokens/{id}',
    'DELETE /v1/tokens/{id}',
    'GET /v1/domains/{id}/client-records',
    'GET /v1/domains/{id}/dkim-keys',
    'POST /v1/domains/{id}/dkim-keys',
    'DELETE /v1/domains/{id}/dkim-keys/{keyId}',
    'GET /v1/messages/{id}/journey',
    'GET /v1/relay-queue',
    'GET /v1/relay-queue/{id}',
    'POST /v1/relay-queue/{id}/retry',
    'DELETE /v1/relay-queue/{id}',
    'GET /v1/dead-letters',
    'GET /v1/dead-letters/{id}',
    'POST /v1/dead-letters/{id}/replay',
    'GET /v1/delivery-rejections',
    'GET /v1/decisions',
  ];
  assert.deepEqual(new Set(documented), new Set(expected));
  for (const route of expected) {
    const [method, path] = route.split(' ') as [string, string];
    const served = api().app.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') });
    assert.ok(served, `${route} is documented and served`);
  }
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      assert.ok(operation.responses['401'], `${method} ${path} documents 401`);
      if (['post', 'patch', 'put'].includes(method))
        assert.ok(operation.requestBody, `${method} ${path} has a body schema`);
    }
  }
});

test('Swagger UI is served at /docs', async () => {
  const response = await fetch(`${api().baseUrl}/docs`, { redirect: 'follow' });
  assert.equal(response.status, 200);
  assert.match(await response.text(), /swagger/i);
});
