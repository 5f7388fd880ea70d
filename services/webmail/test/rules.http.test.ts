import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { createPostgresDirectory } from '@correo/directory';
import { defaultImapGatewayConfig, startImapGateway } from '@correo/imap-gateway';
import { defaultManageSieveGatewayConfig, startManageSieveGateway } from '@correo/managesieve-gateway';
import { parseScript, runScript } from '@correo/sieve';
import { activeSieveScripts } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { openTestStack, type TestAccount, type TestStack } from '@correo/testkit/stack';
import { buildWebmail, type Webmail } from '../src/app.js';
import type { Gateways } from '../src/gateways.js';
import type { SieveForms } from '../src/api-types.js';
import { ManageSieveClient } from '../src/managesieve-client.js';
import { WebmailClient } from './support/webmail-client.js';

/*
 * The rules and vacation API of the webmail over HTTP, in front of a real IMAP gateway and a real
 * ManageSieve gateway over one database. What the webmail stored is checked where the mda reads it
 * (the account's active script) and over ManageSieve, never through the webmail.
 */

let stack: TestStack;
let webmail: Webmail;
let gateways: Gateways;
let baseUrl: string;
let alice: TestAccount;
let bob: TestAccount;

before(async () => {
  stack = await openTestStack('embedded');
  const tls = await stack.certificate();
  const logger = createLogger('webmail-rules-test', 'silent');
  const directory = createPostgresDirectory(stack.pool);
  const imap = await startImapGateway({
    config: defaultImapGatewayConfig({ ports: { imap: 0, imaps: 0 }, hostname: 'localhost' }),
    pool: stack.pool,
    blobs: stack.blobs,
    directory,
    limits: stack.limits,
    notifier: stack.openNotifier(),
    logger,
    tls,
  });
  stack.defer(() => imap.close());
  const sieve = await startManageSieveGateway({
    config: defaultManageSieveGatewayConfig({ port: 0, hostname: 'localhost' }),
    pool: stack.pool,
    blobs: stack.blobs,
    directory,
    limits: stack.limits,
    notifier: stack.notifier,
    logger,
    tls,
  });
  stack.defer(() => sieve.close());
  gateways = {
    imap: { host: '127.0.0.1', port: imap.ports.imap },
    // Not used by these routes: nothing listens there.
    submission: { host: '127.0.0.1', port: 9 },
    managesieve: { host: '127.0.0.1', port: sieve.port },
    tls: { ca: tls.cert, servername: 'localhost' },
  };
  webmail = await buildWebmail({ gateways, logger, sessionIdleMs: 60_000, secureCookie: false });
  await webmail.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(webmail.app.server.address() as AddressInfo).port}`;
  alice = await stack.account('alice');
  bob = await stack.account('bob');
});

after(async () => {
  await webmail?.app.close();
  await stack?.close();
});

/** GET /api/sieve as alice, through a webmail of its own whose ManageSieve is `managesieve`. */
async function sieveAnswerThrough(managesieve: Gateways['managesieve']) {
  const other = await buildWebmail({
    gateways: { ...gateways, managesieve },
    logger: createLogger('webmail-rules-test', 'silent'),
    sessionIdleMs: 60_000,
    secureCookie: false,
  });
  await other.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `http://127.0.0.1:${(other.app.server.address() as AddressInfo).port}`;
    const signedIn = await WebmailClient.signIn(url, alice.address, stack.password);
    return await signedIn.call('GET', '/api/sieve');
  } finally {
    await other.app.close();
  }
}

const activeScript = async (account: TestAccount) =>
  (await activeSieveScripts(stack.pool, [account.accountId])).get(account.accountId)?.content;

describe('webmail rules and vacation over ManageSieve', () => {
  test('rules: add, reorder, disable, delete; the active script is what the forms wrote', async () => {
    const client = await WebmailClient.signIn(baseUrl, alice.address, stack.password);
    const empty = await client.ok<SieveForms>('GET', '/api/sieve');
    assert.deepEqual(empty, { rules: [], vacation: null, edited: false, script: '', scriptName: 'correo' });

    const invoices = {
      name: 'Invoices',
      conditions: [{ field: 'subject', match: 'contains', value: 'invoice' }],
      actions: [{ type: 'fileinto', folder: 'Bills' }, { type: 'read' }],
    };
    const lists = {
      name: 'Lists',
      match: 'any',
      conditions: [{ field: 'header', header: 'List-Id', match: 'contains', value: 'pelicans' }],
      actions: [{ type: 'fileinto', folder: 'Lists' }, { type: 'stop' }],
    };
    const saved = await client.ok<SieveForms>('PUT', '/api/sieve/rules', { rules: [invoices, lists] });
    assert.deepEqual(
      saved.rules.map((r) => [r.name, r.enabled, r.match]),
      [
        ['Invoices', true, 'all'],
        ['Lists', true, 'any'],
      ],
    );
    const stored = await activeScript(alice);
    assert.equal(stored, saved.script);
    const run = (subject: string, list?: string) =>
      runScript(parseScript(stored!), {
        headers: [{ name: 'Subject', value: subject }, ...(list ? [{ name: 'List-Id', value: list }] : [])],
        envelope: { from: 'x@example.com', to: alice.address },
        size: 10,
      }).actions.map((a) =>
        a.type === 'fileinto' ? `${a.mailbox} ${a.flags?.join(' ') ?? ''}`.trim() : a.type,
      );
    assert.deepEqual(run('your invoice'), ['Bills \\Seen']);
    assert.deepEqual(run('hi', '<pelicans.example>'), ['Lists']);

    // Reorder and disable: the whole list as the page sends it.
    const reordered = await client.ok<SieveForms>('PUT', '/api/sieve/rules', {
      rules: [{ ...lists, enabled: false }, invoices],
    });
    assert.deepEqual(
      reordered.rules.map((r) => [r.name, r.enabled]),
      [
        ['Lists', false],
        ['Invoices', true],
      ],
    );
    assert.ok(
      !(await activeScript(alice))!.includes('header :contains "List-Id"'),
      'a disabled rule writes no Sieve',
    );
    const deleted = await client.ok<SieveForms>('PUT', '/api/sieve/rules', { rules: [invoices] });
    assert.deepEqual(
      deleted.rules.map((r) => r.name),
      ['Invoices'],
    );

    // What another ManageSieve client sees: the same script, active.
    const other = await ManageSieveClient.open(gateways, alice.address, stack.password);
    try {
      assert.deepEqual(await other.listScripts(), [{ name: 'correo', active: true }]);
      assert.equal(await other.getScript('correo'), deleted.script);
    } finally {
      await other.logout();
    }
  });

  test("vacation, and a hand-written script: kept around the forms; the server's errors with line and column", async () => {
    const client = await WebmailClient.signIn(baseUrl, bob.address, stack.password);
    const own = 'require "fileinto";\n# mine\nif header :contains "subject" "[x]" { fileinto "X"; }\n';
    const script = await client.ok<SieveForms>('PUT', '/api/sieve/script', { script: own });
    assert.equal(script.script, own);
    assert.equal(await activeScript(bob), own);

    const form = { enabled: true, subject: 'Away', body: 'Back on Monday.\n.\nBob', days: 3, addresses: [] };
    const on = await client.ok<SieveForms>('PUT', '/api/sieve/vacation', form);
    assert.deepEqual(on.vacation, { ...form, from: '' });
    const stored = (await activeScript(bob))!;
    // The forms go after the user's require (and the comment above the first command), before the rest.
    assert.ok(stored.startsWith('require "fileinto";\n# mine\n# correo-forms v1 '), stored);
    assert.ok(
      stored.endsWith('# correo-forms end\nif header :contains "subject" "[x]" { fileinto "X"; }\n'),
      stored,
    );
    assert.match(stored, /^vacation :days 3 :subject "Away" text:\nBack on Monday\.\n\.\.\nBob\n\.\n;$/m);

    // The server judges the hand-written script: a NO with the parser's line and column.
    const broken = await client.call('PUT', '/api/sieve/script', {
      script: 'require "fileinto";\nif true {\n  fileinto "x"\n}\n',
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error?.code, 'invalid_script');
    const [detail] = (broken.body.error as unknown as { details: { line: number; column: number }[] })
      .details;
    assert.equal(detail!.line, 4);
    assert.equal(typeof detail!.column, 'number');
    assert.equal(await activeScript(bob), stored, 'nothing replaced');

    // The forms refuse what they cannot write safely, naming the field; nothing stored.
    const injected = await client.call('PUT', '/api/sieve/vacation', { ...form, body: 'cost ${x}' });
    assert.equal(injected.status, 400);
    assert.equal(injected.body.error?.code, 'invalid_form');
    const badAddress = await client.call('PUT', '/api/sieve/rules', {
      rules: [{ name: 'f', conditions: [], actions: [{ type: 'redirect', address: 'nobody' }] }],
    });
    assert.equal(badAddress.status, 400);
    assert.equal(badAddress.body.error?.code, 'invalid_form');
    assert.match(badAddress.body.error?.message ?? '', /0\.actions\.0\.address must be an address/);
    const unknownField = await client.call('PUT', '/api/sieve/vacation', { ...form, script: 'discard;' });
    assert.equal(unknownField.status, 400);
    assert.equal(await activeScript(bob), stored);

    // Off: no reply in the script, the text kept.
    const off = await client.ok<SieveForms>('PUT', '/api/sieve/vacation', { ...form, enabled: false });
    assert.equal(off.vacation?.body, form.body);
    assert.ok(!/^vacation /m.test((await activeScript(bob))!));
  });

  test("no active script: the forms' new script does not overwrite an inactive one of the same name", async () => {
    const carol = await stack.account('carol');
    const own = await ManageSieveClient.open(gateways, carol.address, stack.password);
    try {
      const put = await own.command('PUTSCRIPT', 'correo', 'keep;\r\n');
      assert.equal(put.status, 'OK', put.text);
    } finally {
      await own.logout();
    }
    const client = await WebmailClient.signIn(baseUrl, carol.address, stack.password);
    const saved = await client.ok<SieveForms>('PUT', '/api/sieve/vacation', { enabled: true, body: 'Away.' });
    assert.equal(saved.scriptName, 'correo-2');
    const other = await ManageSieveClient.open(gateways, carol.address, stack.password);
    try {
      assert.deepEqual(await other.listScripts(), [
        { name: 'correo', active: false },
        { name: 'correo-2', active: true },
      ]);
      assert.equal(await other.getScript('correo'), 'keep;\r\n');
    } finally {
      await other.logout();
    }
  });

  test("the user's ManageSieve sessions all taken: 503 busy, not a sign-in failure", async () => {
    const dave = await stack.account('dave');
    const held: ManageSieveClient[] = [];
    try {
      // MANAGESIEVE_MAX_CONNECTIONS_PER_USER (5): the server answers the sixth login NO (TRYLATER).
      for (let i = 0; i < 5; i++)
        held.push(await ManageSieveClient.open(gateways, dave.address, stack.password));
      const client = await WebmailClient.signIn(baseUrl, dave.address, stack.password);
      const answer = await client.call('GET', '/api/sieve');
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, 'rules_busy');
    } finally {
      await Promise.all(held.map((c) => c.logout()));
    }
  });

  test('signed out, cross-site, or no ManageSieve: JSON errors', async () => {
    const anonymous = await fetch(`${baseUrl}/api/sieve`);
    assert.equal(anonymous.status, 401);
    const client = await WebmailClient.signIn(baseUrl, alice.address, stack.password);
    const crossSite = await fetch(`${baseUrl}/api/sieve/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ rules: [] }),
    });
    assert.equal(crossSite.status, 403);

    const answer = await sieveAnswerThrough(undefined);
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error?.code, 'no_managesieve');
    assert.equal((await client.call('GET', '/api/sieve')).status, 200);
  });

  test('a ManageSieve server that is down or talks nonsense: 503 JSON in words, no hang', async () => {
    // Greetings no ManageSieve server would send: no STARTTLS; a 3 MiB literal; a line that is not RFC 5804.
    const greetings = [
      '"IMPLEMENTATION" "x"\r\nOK\r\n',
      `"IMPLEMENTATION" {3145728}\r\n${'x'.repeat(3145728)}\r\nOK\r\n`,
      '(((\r\n',
    ];
    const servers = await Promise.all(
      greetings.map(async (greeting) => {
        const server = createServer((socket) => {
          socket.on('error', () => {});
          socket.end(greeting);
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    const ports = [9, ...servers.map((s) => (s.address() as AddressInfo).port)];
    try {
      for (const port of ports) {
        const answer = await sieveAnswerThrough({ host: '127.0.0.1', port });
        assert.equal(answer.status, 503, `port ${port}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error?.code, 'rules_unavailable');
        assert.match(answer.body.error?.message ?? '', /cannot be reached right now/);
      }
    } finally {
      for (const server of servers) server.close();
    }
  });
});
