import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { migrate } from '@correo/store';
import { LineClient, eventually, freePorts, freshDatabase, spawnNode } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: FreshDatabase;
let dataDir: string;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  dataDir = await mkdtemp(join(tmpdir(), 'imap-main-'));
});

after(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('src/main.ts on SIGTERM: a waiting session gets BYE, the process exits cleanly', async () => {
  const [imap, imaps] = await freePorts(2);
  const service = spawnNode(mainScript, {
    DATABASE_URL: db.url,
    BLOB_ADAPTER: 'fs',
    CORREO_DATA_DIR: dataDir,
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    IMAP_BIND_HOST: '127.0.0.1',
    IMAP_PORT: String(imap),
    IMAPS_PORT: String(imaps),
  });
  let client: LineClient | undefined;
  try {
    await eventually('the IMAP port to answer', async () => {
      client = await LineClient.connect(imap!, { literals: true }).catch(() => undefined);
      return client !== undefined;
    });
    client = client!;
    assert.match(await client.readLine(), /^\* OK /);
    service.child.kill('SIGTERM');
    assert.equal(await client.readLine(), '* BYE Server shutting down');
    await client.closed();
    assert.deepEqual(await service.exitWithin(20_000), { code: 0, signal: null }, service.stderr());
  } finally {
    client?.destroy();
    service.child.kill('SIGKILL');
  }
});
