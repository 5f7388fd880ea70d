import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';
import { listSieveScriptNames, getSieveScript } from '@correo/store';
import type { ManageSieveGateway } from '../src/index.js';
import { ManageSieveTestStack } from './helpers/stack.js';

const PYTHON_CLIENT = fileURLToPath(new URL('./clients/managesieve_client.py', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

const GOOD = 'require ["fileinto"];\nif header :contains "subject" "invoice" {\n  fileinto "Invoices";\n}\n';
const BAD = 'require ["fileinto"];\nif header :contains "subject" "invoice" {\n  fileinto "Invoices"\n}\n';

describe("real clients: Debian's sieve-connect over STARTTLS", () => {
  let stack: ManageSieveTestStack;
  let gateway: ManageSieveGateway;
  let dir: string;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ManageSieveTestStack.create('embedded');
    gateway = await stack.startGateway();
    account = await stack.account('rules');
    dir = await mkdtemp(join(tmpdir(), 'sieve-connect-'));
    await writeFile(join(dir, 'ca.pem'), stack.tls.cert);
    await writeFile(join(dir, 'good.sieve'), GOOD);
    await writeFile(join(dir, 'bad.sieve'), BAD);
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** One sieve-connect action; the password on stdin (--passwordfd 0). */
  function sieveConnect(...args: string[]) {
    return runProgram(
      'sieve-connect',
      [
        '--server',
        'localhost',
        '--4',
        '--port',
        String(gateway.port),
        '--user',
        account.address,
        '--passwordfd',
        '0',
        '--tlscafile',
        join(dir, 'ca.pem'),
        '--noclearauth',
        '--authmech',
        'PLAIN',
        ...args,
      ],
      { input: `${stack.password}\n`, cwd: dir },
    );
  }

  test('upload, list, activate, download, deactivate, delete; a script with an error is refused with line and column', async () => {
    const upload = await sieveConnect('--upload', '--localsieve', 'good.sieve', '--remotesieve', 'rules');
    assert.equal(upload.code, 0, upload.stderr);
    assert.equal((await getSieveScript(stack.pool, account.accountId, 'rules'))?.content, GOOD);

    const activate = await sieveConnect('--activate', '--remotesieve', 'rules');
    assert.equal(activate.code, 0, activate.stderr);
    const list = await sieveConnect('--list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^"rules" ACTIVE$/m);

    const download = await sieveConnect('--download', '--remotesieve', 'rules', '--localsieve', 'copy.sieve');
    assert.equal(download.code, 0, download.stderr);
    assert.equal(await readFile(join(dir, 'copy.sieve'), 'utf8'), GOOD);

    const refused = await sieveConnect('--upload', '--localsieve', 'bad.sieve', '--remotesieve', 'broken');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /line 4, column 1/);
    const check = await sieveConnect('--checkscript', '--localsieve', 'bad.sieve');
    assert.match(check.stdout + check.stderr, /line 4, column 1/);

    const deleteActive = await sieveConnect('--delete', '--remotesieve', 'rules');
    assert.notEqual(deleteActive.code, 0, 'the active script is not deleted');
    const deactivate = await sieveConnect('--deactivate');
    assert.equal(deactivate.code, 0, deactivate.stderr);
    const remove = await sieveConnect('--delete', '--remotesieve', 'rules');
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(await listSieveScriptNames(stack.pool, account.accountId), []);
  });
});

describe("real clients: Python's managesieve (PyPI) over STARTTLS", () => {
  let stack: ManageSieveTestStack;
  let gateway: ManageSieveGateway;
  let dir: string;

  before(async () => {
    stack = await ManageSieveTestStack.create('distributed');
    gateway = await stack.startGateway();
    dir = await mkdtemp(join(tmpdir(), 'managesieve-py-'));
    await writeFile(join(dir, 'ca.pem'), stack.tls.cert);
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('capabilities before and after TLS, a wrong then right PLAIN, put/list/activate/get/delete with codes', async () => {
    const account = await stack.account('python');
    // The venv's python3 with managesieve 0.8.1 (scripts/py-tool.sh installs it under ~/.cache/correo).
    const tool = await runProgram('bash', [join(REPO, 'scripts/py-tool.sh'), 'managesieve'], {
      timeoutMs: 300_000,
    });
    assert.equal(tool.code, 0, tool.stderr);
    const run = await runProgram(
      tool.stdout.trim(),
      [PYTHON_CLIENT, String(gateway.port), account.address, stack.password, GOOD],
      { env: { SSL_CERT_FILE: join(dir, 'ca.pem') } },
    );
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(result.mechs_before_tls, [], 'no mechanism offered before TLS');
    assert.equal(result.starttls_offered, true);
    assert.deepEqual(result.mechs_after_tls, ['PLAIN', 'LOGIN']);
    assert.ok((result.sieve as string[]).includes('fileinto'));
    assert.equal(result.implementation, 'correo');
    assert.equal(result.wrong_password, 'NO');
    assert.equal(result.login, 'OK');
    assert.equal(result.havespace, 'OK');
    assert.equal(result.put, 'OK');
    assert.equal((result.put_broken as string[])[0], 'NO');
    assert.match((result.put_broken as string[])[1]!, /line \d+, column \d+/);
    assert.equal(result.setactive, 'OK');
    assert.deepEqual(result.list, [
      'OK',
      [
        ['other', false],
        ['python', true],
      ],
    ]);
    assert.deepEqual(result.get, ['OK', GOOD]);
    assert.deepEqual(result.delete_active, ['NO', 'ACTIVE']);
    assert.equal(result.delete_other, 'OK');
    assert.deepEqual(result.get_missing, ['NO', 'NONEXISTENT']);
    assert.equal(result.unauthenticate, 'OK');
    assert.equal(result.logout, 'OK');
    assert.deepEqual(await listSieveScriptNames(stack.pool, account.accountId), [
      { name: 'python', active: true },
    ]);
  });
});
