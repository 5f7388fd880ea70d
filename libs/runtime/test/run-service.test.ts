import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killRunning, startServiceProcess } from '@correo/testkit';

// Readiness goes false first on SIGTERM: when a service's close() starts draining (sessions, a
// batch, relay claims), /readyz already answers 503, so the load balancer sends no new clients
// to a pod that is going away. Every service's main.ts runs through runService, so this holds
// for each of them.
const FIXTURE = fileURLToPath(new URL('./fixtures/draining-service.ts', import.meta.url));
const SERVICES = fileURLToPath(new URL('../../../services', import.meta.url));

test('SIGTERM: /readyz answers 503 before the service starts draining, then the process exits 0', async (t) => {
  t.after(killRunning);
  const port = await freePort();
  const service = await startServiceProcess(FIXTURE, { METRICS_PORT: String(port) });
  assert.equal(await service.readyz(), 200, 'ready once started');

  service.process.child.kill('SIGTERM');
  const exit = await service.process.exitWithin(30_000);
  assert.deepEqual(exit, { code: 0, signal: null }, service.process.stderr());
  const [seen] = service.logged('readiness while draining') as {
    status: number;
    body: { status: string; checks: { startup: { ok: boolean; error?: string } } };
  }[];
  assert.ok(seen, service.process.stdout());
  assert.equal(seen.status, 503, 'not ready while close() runs');
  assert.equal(seen.body.status, 'not ready');
  assert.match(seen.body.checks.startup.error ?? '', /^draining: shutting down \(SIGTERM\)/);
});

test('every service main.ts runs through runService', () => {
  // Directly, or through the shared mailbox-gateway main (IMAP, POP3), which runs runService.
  const gatewayMain = fileURLToPath(new URL('../../backends/src/mailbox-gateway.ts', import.meta.url));
  assert.match(readFileSync(gatewayMain, 'utf8'), /\brunService\(/);
  const mains = readdirSync(SERVICES).map((name) => join(SERVICES, name, 'src/main.ts'));
  assert.ok(mains.length >= 7);
  for (const main of mains)
    assert.match(readFileSync(main, 'utf8'), /await (runService|runMailboxGateway)\(/, main);
});
