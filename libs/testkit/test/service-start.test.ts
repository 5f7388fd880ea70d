import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  makeDataDir,
  removeDataDir,
  startReadyServiceProcess,
  startServiceProcess,
  type Spawned,
} from '../src/index.js';

// A service start in the harness (the fault run's setup and its restarts, every test that runs a
// main.ts) is bounded: a process that never becomes ready makes the start reject with its name,
// how it ended and the tail of its log, and it is killed, instead of the caller waiting for ever
// (the fault run's seed 113 sat 14 minutes in its setup).

describe('a bounded service start', () => {
  let dir: string;
  before(async () => {
    dir = await makeDataDir('correo-service-start-');
  });
  after(async () => {
    await removeDataDir(dir);
  });

  const script = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  test('a process that never logs "started" is killed and the start rejects with its name and log', async () => {
    const stuck = await script(
      'stuck.mjs',
      `console.log(JSON.stringify({ msg: 'connecting to the broker' }));
       process.on('SIGTERM', () => {}); // as a start stuck in a backend call that ignores the signal
       setInterval(() => {}, 1000);`,
    );
    let spawned: Spawned | undefined;
    await assert.rejects(
      startServiceProcess(
        stuck,
        {},
        { name: 'stuck-service#2', timeoutMs: 1500, onSpawn: (p) => (spawned = p) },
      ),
      (error: Error) => {
        assert.match(error.message, /stuck-service#2 did not start within 1500 ms/);
        assert.match(error.message, /killed \(SIGKILL\)/);
        assert.match(error.message, /connecting to the broker/);
        return true;
      },
    );
    assert.equal(spawned?.child.signalCode, 'SIGKILL', 'the stuck process was killed');
  });

  test('a process that exits during its start: the start rejects at once with the exit code and log', async () => {
    const failing = await script(
      'failing.mjs',
      `process.stderr.write('listen EADDRINUSE: address already in use 127.0.0.1:1143\\n');
       process.exit(3);`,
    );
    await assert.rejects(
      startServiceProcess(failing, {}, { name: 'imap-gateway#2', timeoutMs: 60_000 }),
      (error: Error) => {
        assert.match(error.message, /imap-gateway#2 exited before it started \(code 3, signal null\)/);
        assert.match(error.message, /EADDRINUSE/);
        return true;
      },
    );
  });

  test('a process that starts but whose /readyz never answers 200 is killed within the bound', async () => {
    const unready = await script(
      'unready.mjs',
      `import { createServer } from 'node:http';
       const server = createServer((request, response) => { response.statusCode = 503; response.end('kafka: down'); });
       server.listen(0, '127.0.0.1', () => {
         const { port } = server.address();
         console.log(JSON.stringify({ msg: 'started', listeners: [{ name: 'metrics, /healthz, /readyz', address: 'http://127.0.0.1:' + port }] }));
       });`,
    );
    let spawned: Spawned | undefined;
    await assert.rejects(
      startReadyServiceProcess(
        unready,
        {},
        { name: 'mda#1', timeoutMs: 2000, onSpawn: (p) => (spawned = p) },
      ),
      (error: Error) => {
        assert.match(error.message, /mda#1 did not become ready within 2000 ms/);
        assert.match(error.message, /last \/readyz: 503/);
        assert.match(error.message, /killed \(SIGKILL\)/);
        return true;
      },
    );
    assert.equal(spawned?.child.signalCode, 'SIGKILL', 'the unready process was killed');
  });

  test('a process that starts and gets ready is returned running', async () => {
    const ready = await script(
      'ready.mjs',
      `import { createServer } from 'node:http';
       const server = createServer((request, response) => response.end('ok'));
       server.listen(0, '127.0.0.1', () => {
         const { port } = server.address();
         console.log(JSON.stringify({ msg: 'started', listeners: [{ name: 'metrics, /healthz, /readyz', address: 'http://127.0.0.1:' + port }] }));
       });`,
    );
    const service = await startReadyServiceProcess(ready, {}, { name: 'pop3-gateway#1', timeoutMs: 60_000 });
    try {
      assert.equal(await service.readyz(), 200);
    } finally {
      await service.process.stop('SIGKILL');
    }
  });
});
