import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineClient, listenerPort, runProgram, startReadyService } from '@correo/testkit';
import type { ServiceProcess } from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

const POPLIB_CLIENT = fileURLToPath(new URL('./clients/poplib_client.py', import.meta.url));

// What the Helm chart runs: src/main.ts as processes of their own (two pods), configured only by
// environment, on the shared PostgreSQL, MinIO and Redis, used by Python's poplib. The maildrop lock
// must hold across the two processes, which only a Redis wired by main.ts can do.

describe('pop3-gateway src/main.ts as the chart runs it (PostgreSQL, MinIO, Redis)', () => {
  let stack: Pop3TestStack;
  const services: ServiceProcess[] = [];

  before(async () => {
    stack = await Pop3TestStack.create('distributed', { blobsAtRoot: true });
  });
  after(async () => {
    for (const service of services) await service.process.stop('SIGKILL');
    await stack.close();
  });

  test('poplib over STLS and POP3S on two pods: one session per maildrop, DELE lands; SIGTERM exits 0', async () => {
    const { accountId, address } = await stack.account('main');
    const texts = [rawMessage('alpha', ['Hi']), rawMessage('beta', ['Bye'])];
    for (const text of texts) await stack.deliver(accountId, address, text);
    // The certificate the processes load from their data dir (as from the chart's volume), made here
    // first so the clients can trust it.
    const dataDir = join(stack.dir, 'pop3-main');
    await loadTlsMaterial({ dataDir, hostname: 'localhost' });
    const caFile = join(dataDir, 'tls', 'cert.pem');
    const env = {
      ...stack.env(),
      CORREO_DATA_DIR: dataDir,
      POP3_HOSTNAME: 'localhost',
      POP3_BIND_HOST: '127.0.0.1',
      POP3_PORT: '0',
      POP3S_PORT: '0',
    };
    for (let pod = 0; pod < 2; pod++) services.push(await startReadyService('pop3-gateway', env));
    const [a, b] = services.map((service) => ({
      pop3: listenerPort(service.listeners['POP3 (STLS)']!),
      pop3s: listenerPort(service.listeners['POP3S (implicit TLS)']!),
    })) as [{ pop3: number; pop3s: number }, { pop3: number; pop3s: number }];
    const poplib = async (mode: string, port: number) => {
      const run = await runProgram('python3', [
        POPLIB_CLIENT,
        mode,
        '127.0.0.1',
        String(port),
        address,
        stack.password,
        caFile,
      ]);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as {
        login?: string;
        error?: string;
        messages?: { text: string }[];
        quit?: string;
      };
    };

    // A session on pod a holds the maildrop: poplib on pod b is told it is in use.
    const holder = await LineClient.connect(a.pop3s, { tls: { ca: await readFile(caFile, 'utf8') } });
    try {
      assert.match(await holder.readLine(), /^\+OK /);
      await holder.ask(`USER ${address}`);
      assert.match(await holder.ask(`PASS ${stack.password}`), /^\+OK Logged in, 2 messages/);
      assert.match((await poplib('pop3s-plain', b.pop3s)).error ?? '', /^-ERR \[IN-USE\] /);
      assert.match(await holder.ask('QUIT'), /^\+OK/);
    } finally {
      holder.destroy();
    }

    const read = await poplib('stls-user', b.pop3);
    assert.equal(read.error, undefined);
    assert.match(read.login!, /^\+OK Logged in, 2 messages/);
    assert.deepEqual(
      read.messages!.map((m) => m.text + '\r\n'),
      texts,
    );
    assert.match(read.quit!, /^\+OK Bye, 1 messages deleted/);
    assert.equal((await stack.uids(accountId)).length, 1);

    for (const service of services)
      assert.deepEqual(await service.process.stop('SIGTERM'), { code: 0, signal: null });
  });
});
