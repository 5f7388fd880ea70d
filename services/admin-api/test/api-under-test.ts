import { after, before } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { freshDatabase, startDnsServer } from '@correo/testkit';
import type { FreshDatabase, TestDnsServer } from '@correo/testkit';
import { buildAdminApi } from '../src/index.js';

export const ADMIN_TOKEN = 'test-operator-token-0123456789abcdef';

export interface ApiResponse {
  status: number;
  // Test code reads arbitrary fields of JSON answers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export interface ApiClient {
  call(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown },
  ): Promise<ApiResponse>;
}

export interface ApiUnderTest {
  app: FastifyInstance;
  pool: Pool;
  /** Where the listening server answers (for fetch and the CLI). */
  baseUrl: string;
  /** The DNS server on loopback domain verification asks (ADMIN_DNS_SERVERS). */
  dns: TestDnsServer;
}

/**
 * A migrated database of its own, a DNS server on loopback and an admin-api listening on a free port
 * that resolves through it, all gone after the file.
 */
export function useAdminApi(): () => ApiUnderTest {
  let database: FreshDatabase | undefined;
  let subject: ApiUnderTest | undefined;
  before(async () => {
    database = await freshDatabase();
    await migrate(database.url);
    const pool = createPool(database.url, { max: 5 });
    const dns = await startDnsServer();
    const app = await buildAdminApi({ pool, adminToken: ADMIN_TOKEN, dnsServers: [dns.address] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    subject = { app, pool, baseUrl: `http://127.0.0.1:${port}`, dns };
  });
  after(async () => {
    await subject?.app.close();
    await subject?.dns.close();
    await subject?.pool.end();
    await database?.drop();
  });
  return () => {
    if (!subject) throw new Error('the admin-api is not started yet (use it inside a test)');
    return subject;
  };
}

function headersFor(token: string | null | undefined, body: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token ?? ADMIN_TOKEN}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/** Through fastify.inject: no socket. `token: null` sends no Authorization header; undefined the operator's. */
export function injectClient(api: () => ApiUnderTest): ApiClient {
  return {
    async call(method, path, options = {}) {
      const response = await api().app.inject({
        method: method as 'GET',
        url: path,
        headers: headersFor(options.token, options.body),
        ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
      });
      return {
        status: response.statusCode,
        body: response.body === '' ? undefined : JSON.parse(response.body),
        headers: response.headers as ApiResponse['headers'],
      };
    },
  };
}

/** Through a real HTTP connection to the listening server. */
export function fetchClient(api: () => ApiUnderTest): ApiClient {
  return {
    async call(method, path, options = {}) {
      const response = await fetch(`${api().baseUrl}${path}`, {
        method,
        headers: headersFor(options.token, options.body),
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text === '' ? undefined : JSON.parse(text),
        headers: Object.fromEntries(response.headers.entries()),
      };
    },
  };
}

/** A new tenant with `domain`, and a token scoped to it (its secret), made with the operator's token. */
export async function newTenantToken(client: ApiClient, name: string, domain: string): Promise<string> {
  const tenant = (await client.call('POST', '/v1/tenants', { body: { name } })).body.id as string;
  const created = await client.call('POST', '/v1/domains', { body: { name: domain, tenantId: tenant } });
  if (created.status !== 201)
    throw new Error(`domain ${domain}: ${created.status} ${JSON.stringify(created.body)}`);
  return (await client.call('POST', '/v1/tokens', { body: { name: 'ops', tenantId: tenant } })).body
    .secret as string;
}
