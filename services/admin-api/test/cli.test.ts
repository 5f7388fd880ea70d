import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPostgresDirectory } from '@correo/directory';
import { freePort, runProgram } from '@correo/testkit';
import type { ProgramRun } from '@correo/testkit';
import { ADMIN_TOKEN, useAdminApi } from './api-under-test.js';

const bin = fileURLToPath(new URL('../bin/correo-admin.js', import.meta.url));
const api = useAdminApi();

/** Runs the real CLI binary as a child process against the API under test. */
function cli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<ProgramRun> {
  return runProgram(process.execPath, [bin, ...args], {
    input: options.stdin,
    env: { CORREO_API_URL: api().baseUrl, CORREO_API_TOKEN: ADMIN_TOKEN, ...options.env },
    timeoutMs: 30_000,
  });
}

/** Runs the CLI and expects it to succeed; its output. */
async function cliOk(args: string[], options?: Parameters<typeof cli>[1]): Promise<ProgramRun> {
  const done = await cli(args, options);
  assert.equal(done.code, 0, `${args.join(' ')}: ${done.stderr}`);
  return done;
}

describe('correo-admin CLI against a listening admin-api', () => {
  const run = randomBytes(3).toString('hex');
  const tenant = `cli-tenant-${run}`;

  before(async () => {
    await cliOk(['add-tenant', tenant]);
  });

  /** A domain of the test's own (through the CLI, which the first test proves), so each test stands alone. */
  async function newDomain(name: string): Promise<string> {
    const domain = `cli-${name}-${run}.test`;
    await cliOk(['add-domain', domain, '--tenant', tenant]);
    return domain;
  }

  test('add-domain (tenant by name) and list-domains', async () => {
    const domain = `cli-${run}.test`;
    const added = await cli(['add-domain', domain, '--tenant', tenant]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`domain ${domain} created`));
    const idn = await cli(['add-domain', `Ñandú-${run}.test`, '--tenant', tenant]);
    assert.equal(idn.code, 0, idn.stderr);
    const listed = await cli(['list-domains']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${domain}\\t`, 'm'));
    assert.match(listed.stdout, new RegExp(`^xn--and-.*\\.test \\(ñandú-${run}\\.test\\)`, 'm'));
  });

  test('add-account with --password, then the password works', async () => {
    const domain = await newDomain('password');
    const added = await cli([
      'add-account',
      `yo@${domain}`,
      '--password',
      'first-password',
      '--quota',
      '1000000',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`account yo@${domain} created`));
    const directory = createPostgresDirectory(api().pool);
    assert.ok(await directory.authenticate(`yo@${domain}`, 'first-password'));
  });

  test('add-account reads the password from the environment or from stdin', async () => {
    const domain = await newDomain('env-stdin');
    const fromEnv = await cli(['add-account', `env@${domain}`], {
      env: { CORREO_ACCOUNT_PASSWORD: 'env-password' },
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const fromStdin = await cli(['add-account', `stdin@${domain}`], { stdin: 'stdin-password\n' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const directory = createPostgresDirectory(api().pool);
    assert.ok(await directory.authenticate(`env@${domain}`, 'env-password'));
    assert.ok(await directory.authenticate(`stdin@${domain}`, 'stdin-password'));
  });

  test('set-password replaces the password', async () => {
    const domain = await newDomain('set-password');
    await cliOk(['add-account', `yo@${domain}`, '--password', 'first-password']);
    const set = await cli(['set-password', `YO@${domain}`, '--password', 'second-password']);
    assert.equal(set.code, 0, set.stderr);
    const directory = createPostgresDirectory(api().pool);
    assert.equal(await directory.authenticate(`yo@${domain}`, 'first-password'), null);
    assert.ok(await directory.authenticate(`yo@${domain}`, 'second-password'));
  });

  test('add-alias and list-accounts / list-aliases for one domain', async () => {
    const domain = await newDomain('aliases');
    for (const local of ['yo', 'tu'])
      await cliOk(['add-account', `${local}@${domain}`, '--password', `${local}-password-long`]);
    const alias = await cli(['add-alias', `sales@${domain}`, `yo@${domain}`, 'partner@elsewhere.test']);
    assert.equal(alias.code, 0, alias.stderr);
    const catchAll = await cli(['add-alias', `@${domain}`, `yo@${domain}`]);
    assert.equal(catchAll.code, 0, catchAll.stderr);
    const aliases = await cli(['list-aliases', '--domain', domain]);
    assert.equal(aliases.code, 0, aliases.stderr);
    assert.match(
      aliases.stdout,
      new RegExp(`^sales@${domain}\\t-> yo@${domain}, partner@elsewhere.test$`, 'm'),
    );
    assert.match(aliases.stdout, new RegExp(`^@${domain}\\t`, 'm'));
    const accounts = await cli(['list-accounts', '--domain', domain, '--json']);
    assert.equal(accounts.code, 0, accounts.stderr);
    const parsed = JSON.parse(accounts.stdout) as { address: string }[];
    assert.deepEqual(parsed.map((a) => a.address).sort(), [`tu@${domain}`, `yo@${domain}`]);
  });

  test("spam-thresholds sets, shows and clears a domain's spam scores", async () => {
    const domain = await newDomain('spam');
    const set = await cli(['spam-thresholds', domain, '--reject', '12', '--junk', '4.5']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), `${domain}: reject 12, junk 4.5`);
    const shown = await cli(['spam-thresholds', domain, '--json']);
    assert.deepEqual(JSON.parse(shown.stdout), { rejectScore: 12, junkScore: 4.5 });
    const inverted = await cli(['spam-thresholds', domain, '--reject', '3', '--junk', '5']);
    assert.equal(inverted.code, 1);
    assert.match(inverted.stderr, /junkScore must not be above rejectScore/);
    const notANumber = await cli(['spam-thresholds', domain, '--junk', 'high']);
    assert.equal(notANumber.code, 2);
    const cleared = await cli(['spam-thresholds', domain, '--clear']);
    assert.equal(
      cleared.stdout.trim(),
      `${domain}: reject Rspamd's reject action, junk SMTP_SPAM_JUNK_SCORE`,
    );
  });

  test("the API's errors are printed clearly with a non-zero exit", async () => {
    const domain = await newDomain('errors');
    await cliOk(['add-account', `yo@${domain}`, '--password', 'first-password']);
    const duplicate = await cli(['add-account', `yo@${domain}`, '--password', 'whatever-pw']);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, new RegExp(`^correo-admin: the account yo@${domain} exists`, 'm'));
    const short = await cli(['add-account', `new@${domain}`, '--password', 'short']);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /password/);
    const badTarget = await cli(['add-alias', `x@${domain}`, 'not-an-address']);
    assert.equal(badTarget.code, 1);
    assert.match(badTarget.stderr, /targets\[0\]/);
    const unknownDomain = await cli(['add-account', 'a@nowhere.test', '--password', 'long enough']);
    assert.equal(unknownDomain.code, 1);
    assert.match(unknownDomain.stderr, /nowhere\.test is not a local domain/);
    const noAccount = await cli(['set-password', `ghost@${domain}`, '--password', 'long enough']);
    assert.equal(noAccount.code, 1);
    assert.match(noAccount.stderr, /no account ghost@/);
  });

  test('usage, token and connection problems are explained', async () => {
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const missing = await cli(['add-domain']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /expected a domain name/);
    const noToken = await cli(['list-domains'], { env: { CORREO_API_TOKEN: '' } });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /CORREO_API_TOKEN is not set/);
    const badToken = await cli(['list-domains'], { env: { CORREO_API_TOKEN: 'nope' } });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /token is unknown, revoked or expired/);
    const closedPort = await freePort();
    const unreachable = await cli(['list-domains'], {
      env: { CORREO_API_URL: `http://127.0.0.1:${closedPort}` },
    });
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      new RegExp(`cannot reach the admin API at http://127.0.0.1:${closedPort}: ECONNREFUSED`),
    );
  });
});
