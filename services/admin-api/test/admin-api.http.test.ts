import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminApiScenarios } from './api-scenarios.js';
import { fetchClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
adminApiScenarios('HTTP', () => fetchClient(api));

test('malformed JSON is a JSON 400, not a crash', async () => {
  const response = await fetch(`${api().baseUrl}/v1/tenants`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer test-operator-token-0123456789abcdef',
      'content-type': 'application/json',
    },
    body: '{"name": ',
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.code, 'string');
  assert.ok(body.error.message.length > 0);
});
