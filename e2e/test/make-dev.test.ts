import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { eventually, makeDataDir, postgresLeftFor, removeDataDir } from '@correo/testkit';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * The README's first command, as a newcomer runs it: `make dev` installs, typechecks and
 * starts the embedded default on the ports of DESIGN.md, prints a demo account, and that
 * account works with clients nobody here wrote. Uses the fixed default ports, so nothing
 * else on the machine may hold them while it runs.
 */
test('make dev serves the demo account on the documented ports', { timeout: 300_000 }, async () => {
  const dataDir = await makeDataDir('correo-make-dev-');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CORREO_DATA_DIR: dataDir };
  const make = spawn('make', ['dev'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  make.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  make.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(make, 'exit');
  try {
    let ready: { checks: Record<string, { ok: boolean }> } | undefined;
    await eventually(
      'make dev to report ready',
      async () => {
        assert.equal(make.exitCode, null, `make dev exited:\n${output}`);
        const response = await fetch('http://127.0.0.1:9464/readyz').catch(() => null);
        if (response?.status === 200) ready = (await response.json()) as typeof ready;
        return ready !== undefined;
      },
      240_000,
    );
    assert.deepEqual(
      Object.entries(ready!.checks).filter(([, c]) => !c.ok),
      [],
      'every backend is up',
    );
    await eventually('the banner', () => output.includes('demo account'), 10_000);
    const password = /demo@example\.test\s+password: (\S+)/.exec(output)?.[1];
    assert.ok(password, `the banner prints the demo password:\n${output}`);
    for (const port of ['2525', '2587', '2465', '1143', '1993', '1110', '1995', '14190', '8080', '9464']) {
      assert.match(output, new RegExp(`:${port}\\b`), `the banner lists port ${port}`);
    }

    await run('swaks', [
      '--server',
      '127.0.0.1:2587',
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'demo@example.test',
      '--auth-password',
      password,
      '--from',
      'demo@example.test',
      '--to',
      'demo@example.test',
      '--header',
      'Subject: hello from make dev',
      '--body',
      'it works',
    ]);
    let fetched = '';
    await eventually(
      'the message in INBOX over IMAP',
      async () => {
        const { stdout } = await run('curl', [
          '-s',
          '--ssl-reqd',
          '-k',
          '-u',
          `demo@example.test:${password}`,
          'imap://127.0.0.1:1143/INBOX;UID=1',
        ]).catch(() => ({ stdout: '' }));
        fetched = stdout;
        return stdout.includes('hello from make dev');
      },
      30_000,
    );
    assert.match(fetched, /it works/);
  } finally {
    if (make.exitCode === null) process.kill(-make.pid!, 'SIGTERM');
    await exited;
    assert.deepEqual(postgresLeftFor(dataDir), [], 'no embedded PostgreSQL left running');
    await removeDataDir(dataDir);
  }
});
