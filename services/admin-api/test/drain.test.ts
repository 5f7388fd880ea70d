import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createPool, migrate, type Pool } from '@correo/store';
import {
  eventually,
  freshDatabase,
  killRunning,
  listenerPort,
  refusesConnections,
  startServiceProcess,
  uniqueName,
  type FreshDatabase,
} from '@correo/testkit';

// SIGTERM with a request in progress (its headers read, its body not yet sent): readiness goes
// false, the listener stops accepting, the request still completes with its real answer and its
// write is kept, and the process exits 0.
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TOKEN = 'drain-test-token-0123456789abcdef';

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 2 });
});

after(async () => {
  await killRunning();
  await pool?.end();
  await db?.drop();
});

/** What the server sent on `socket` so far, and a wait for more. */
function recorder(socket: Socket): { text(): string; until(pattern: RegExp): Promise<void> } {
  let received = '';
  let closed = false;
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  socket.on('close', () => (closed = true));
  return {
    text: () => received,
    until: (pattern) =>
      eventually(`${pattern} from the admin-api (got ${JSON.stringify(received)})`, () => {
        if (pattern.test(received)) return true;
        if (closed) throw new Error('connection closed');
        return false;
      }),
  };
}

test('SIGTERM drains the admin-api: the request in progress completes, new connections are refused', async () => {
  const service = await startServiceProcess(mainScript, {
    DATABASE_URL: db.url,
    ADMIN_TOKEN: TOKEN,
    ADMIN_API_HOST: '127.0.0.1',
    ADMIN_API_PORT: '0',
  });
  const port = listenerPort(service.listeners['admin-api']!);
  const name = uniqueName('drained-tenant');
  const body = JSON.stringify({ name });

  const socket = connect({ host: '127.0.0.1', port });
  const server = recorder(socket);
  // Expect: 100-continue: the 100 shows the server has read the headers, so the request is in
  // progress at the server before SIGTERM, and the body is sent only after it.
  socket.write(
    `POST /v1/tenants HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await server.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);

  service.process.child.kill('SIGTERM');
  await eventually('/readyz to answer 503', async () => (await service.readyz()) === 503, 20_000);
  await eventually('the admin-api to refuse connections', () => refusesConnections(port), 20_000);

  socket.write(body);
  await server.until(/HTTP\/1\.1 201 Created[\s\S]*\r\n\r\n[\s\S]*\}/);
  socket.destroy();
  assert.match(server.text(), new RegExp(`"name":"${name}"`));

  const exit = await service.process.exitWithin(30_000);
  assert.deepEqual(exit, { code: 0, signal: null }, service.process.stdout() + service.process.stderr());
  const stored = await pool.query('SELECT 1 FROM tenants WHERE name = $1', [name]);
  assert.equal(stored.rowCount, 1, 'the tenant created during the drain is stored');
});
