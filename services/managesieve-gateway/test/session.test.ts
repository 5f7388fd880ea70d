import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { createLoginLimiter, encodePlainResponse, LoginPolicy } from '@correo/auth';
import type { AccountRef } from '@correo/directory';
import { createMemoryLimits, MemoryLimitsState, type Limits } from '@correo/limits';
import { encodeCommand, WireReader } from '@correo/managesieve-proto';
import { SUPPORTED_EXTENSIONS } from '@correo/sieve';
import { createLogger } from '@correo/telemetry';
import { oneAccountDirectory, RecordingClock } from '@correo/testkit';
import { ManageSieveSession, type SessionAction, type SessionSettings } from '../src/session.js';
import { MemoryScriptStore } from './helpers/memory-store.js';

const ADDRESS = 'rules@sieve.test';
const PASSWORD = 'correct horse battery staple';
const ACCOUNT: AccountRef = { accountId: '42', tenantId: '7', address: ADDRESS };

const directory = oneAccountDirectory(ACCOUNT, PASSWORD);

const SETTINGS: SessionSettings = {
  hostname: 'sieve.test',
  tlsAvailable: true,
  allowPlaintextAuthOnLoopback: false,
  maxAuthFailures: 3,
  maxScriptBytes: 4096,
  maxScripts: 3,
  maxRedirects: 4,
};

/** One session without a socket: wire text in through the reader, responses kept as text. */
class Driver {
  readonly session: ManageSieveSession;
  readonly reader = new WireReader({ maxLineBytes: 1024, maxLiteralBytes: 8192 });
  output = '';
  admit = true;

  constructor(
    deps: ConstructorParameters<typeof ManageSieveSession>[0],
    secure: boolean,
    settings = SETTINGS,
  ) {
    this.session = new ManageSieveSession(
      deps,
      settings,
      {
        write: async (data) => {
          this.output += data.toString('utf8');
        },
        admitUser: async () => this.admit,
      },
      { remoteAddress: '192.0.2.7', secure },
    );
  }

  /** Sends octets; resolves with what the session wrote for every complete line, and the last action. */
  async send(wire: string | Buffer): Promise<{ reply: string; action: SessionAction | undefined }> {
    const from = this.output.length;
    this.reader.push(typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire);
    let action: SessionAction | undefined;
    for (let line = this.reader.next(); line; line = this.reader.next())
      action = await this.session.handle(line);
    return { reply: this.output.slice(from), action };
  }

  async login(): Promise<void> {
    const { reply } = await this.send(`AUTHENTICATE "PLAIN" "${encodePlainResponse(ADDRESS, PASSWORD)}"\r\n`);
    assert.equal(reply, 'OK "Logged in"\r\n');
  }
}

describe('ManageSieve session over an in-memory script store', () => {
  let limits: Limits;
  let store: MemoryScriptStore;
  let deps: ConstructorParameters<typeof ManageSieveSession>[0];

  beforeEach(() => {
    limits = createMemoryLimits({ state: new MemoryLimitsState() });
    store = new MemoryScriptStore();
    deps = {
      directory,
      loginPolicy: new LoginPolicy(createLoginLimiter(limits), new RecordingClock()),
      store,
      logger: createLogger('managesieve-test', 'silent'),
    };
  });
  afterEach(() => limits.close());

  test('greeting: capabilities then OK; SASL empty and STARTTLS offered before TLS', () => {
    const plain = new Driver(deps, false).session.greeting().toString();
    assert.match(plain, /^"IMPLEMENTATION" "correo"\r\n"SASL" ""\r\n/);
    assert.ok(plain.includes(`"SIEVE" "${SUPPORTED_EXTENSIONS.join(' ')}"\r\n`));
    assert.ok(plain.includes('"MAXREDIRECTS" "4"\r\n"VERSION" "1.0"\r\n"STARTTLS"\r\n"UNAUTHENTICATE"\r\n'));
    assert.ok(plain.endsWith('OK "sieve.test correo ManageSieve ready"\r\n'));
    const driver = new Driver(deps, false);
    const afterTls = driver.session.tlsStarted().toString();
    assert.ok(afterTls.includes('"SASL" "PLAIN LOGIN"\r\n') && !afterTls.includes('STARTTLS'));
    assert.ok(afterTls.endsWith('OK "TLS active"\r\n'));
  });

  test('AUTHENTICATE before TLS: NO (ENCRYPT-NEEDED), the password never checked', async () => {
    const driver = new Driver(deps, false);
    const { reply } = await driver.send(
      `AUTHENTICATE "PLAIN" "${encodePlainResponse(ADDRESS, PASSWORD)}"\r\n`,
    );
    assert.equal(reply, 'NO (ENCRYPT-NEEDED) "AUTHENTICATE needs TLS: use STARTTLS first"\r\n');
    assert.equal(driver.session.authenticated, false);
    assert.deepEqual(await driver.send('STARTTLS\r\n'), {
      reply: 'OK "Begin TLS negotiation"\r\n',
      action: 'starttls',
    });
  });

  test('AUTHENTICATE PLAIN with a continuation, a cancel, a wrong password, then BYE after three in the connection', async () => {
    const driver = new Driver(deps, true);
    const wrong = `AUTHENTICATE "PLAIN" "${encodePlainResponse(ADDRESS, 'nope')}"\r\n`;
    assert.equal((await driver.send(wrong)).reply, 'NO "Authentication failed"\r\n');
    assert.equal((await driver.send('AUTHENTICATE "PLAIN"\r\n')).reply, '""\r\n');
    assert.equal((await driver.send('"*"\r\n')).reply, 'NO "AUTHENTICATE cancelled"\r\n');
    assert.equal((await driver.send('AUTHENTICATE "PLAIN"\r\n')).reply, '""\r\n');
    const literal = encodePlainResponse(ADDRESS, PASSWORD);
    assert.equal((await driver.send(`{${literal.length}+}\r\n${literal}\r\n`)).reply, 'OK "Logged in"\r\n');
    assert.match((await driver.send('CAPABILITY\r\n')).reply, /"OWNER" "rules@sieve.test"\r\n/);
    assert.equal((await driver.send('UNAUTHENTICATE\r\n')).reply, 'OK "Logged out, authenticate again"\r\n');
    assert.match((await driver.send('LISTSCRIPTS\r\n')).reply, /^NO "LISTSCRIPTS needs AUTHENTICATE first"/);
    // The failure before the login still counts after UNAUTHENTICATE: the third of the connection is BYE.
    assert.equal((await driver.send(wrong)).reply, 'NO "Authentication failed"\r\n');
    assert.deepEqual(await driver.send(wrong), {
      reply: 'BYE "Authentication failed, closing"\r\n',
      action: 'close',
    });
  });

  test('scripts: put (checked), list, activate, get, rename, delete, with the RFC 5804 response codes', async () => {
    const driver = new Driver(deps, true);
    await driver.login();
    const script = 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n';
    assert.equal((await driver.send(encodeCommand('PUTSCRIPT', 'main', script))).reply, 'OK "Stored"\r\n');
    assert.equal((await driver.send(encodeCommand('PUTSCRIPT', 'other', 'keep;'))).reply, 'OK "Stored"\r\n');
    assert.equal((await driver.send('SETACTIVE "main"\r\n')).reply, 'OK "Active"\r\n');
    assert.equal((await driver.send('LISTSCRIPTS\r\n')).reply, '"main" ACTIVE\r\n"other"\r\nOK\r\n');
    const bytes = Buffer.byteLength(script);
    assert.equal((await driver.send('GETSCRIPT "main"\r\n')).reply, `{${bytes}}\r\n${script}\r\nOK\r\n`);
    assert.equal(
      (await driver.send('GETSCRIPT "nope"\r\n')).reply,
      'NO (NONEXISTENT) "There is no such script"\r\n',
    );
    assert.equal(
      (await driver.send('SETACTIVE "nope"\r\n')).reply,
      'NO (NONEXISTENT) "There is no such script"\r\n',
    );
    assert.equal(
      (await driver.send('DELETESCRIPT "main"\r\n')).reply,
      'NO (ACTIVE) "The active script cannot be deleted: SETACTIVE \\"\\" first"\r\n',
    );
    assert.equal(
      (await driver.send('RENAMESCRIPT "main" "other"\r\n')).reply,
      'NO (ALREADYEXISTS) "A script of that name exists"\r\n',
    );
    assert.equal((await driver.send('RENAMESCRIPT "main" "renamed"\r\n')).reply, 'OK "Renamed"\r\n');
    assert.equal(store.scripts.get('renamed')?.active, true, 'a rename keeps the active mark');
    assert.equal((await driver.send('SETACTIVE ""\r\n')).reply, 'OK "No script is active"\r\n');
    assert.equal((await driver.send('DELETESCRIPT "renamed"\r\n')).reply, 'OK "Deleted"\r\n');
    assert.equal(
      (await driver.send('DELETESCRIPT "renamed"\r\n')).reply,
      'NO (NONEXISTENT) "There is no such script"\r\n',
    );
    assert.equal((await driver.send('NOOP "t-1"\r\n')).reply, 'OK (TAG "t-1") "Done"\r\n');
    assert.deepEqual(await driver.send('LOGOUT\r\n'), { reply: 'OK "Bye"\r\n', action: 'close' });
  });

  test('a script with an error is refused with its line and column; CHECKSCRIPT the same, nothing stored', async () => {
    const driver = new Driver(deps, true);
    await driver.login();
    const bad = 'require "fileinto";\r\nif true {\r\n  fileinto "x"\r\n}\r\n';
    const put = (await driver.send(encodeCommand('PUTSCRIPT', 'bad', bad))).reply;
    assert.match(put, /^NO "line 4, column 1: .+"\r\n$/);
    assert.equal((await driver.send(encodeCommand('CHECKSCRIPT', bad))).reply, put);
    assert.match(
      (await driver.send(encodeCommand('CHECKSCRIPT', 'require "nope";'))).reply,
      /^NO "line 1, column 9: unsupported extension/,
    );
    assert.equal(store.scripts.size, 0);
    assert.equal(
      (await driver.send(encodeCommand('CHECKSCRIPT', 'keep;'))).reply,
      'OK "The script is valid"\r\n',
    );
    const redirects = Array.from({ length: 6 }, (_, i) => `redirect "r${i}@example.com";`).join('\n');
    assert.equal(
      (await driver.send(encodeCommand('PUTSCRIPT', 'many', redirects))).reply,
      'OK (WARNINGS) "the script has 6 redirect commands; one delivery performs at most 4"\r\n',
    );
  });

  test('limits: QUOTA/MAXSIZE for a script or a literal over the limit, QUOTA/MAXSCRIPTS beyond the count', async () => {
    const driver = new Driver(deps, true);
    await driver.login();
    const big = `#${'x'.repeat(SETTINGS.maxScriptBytes)}\n`;
    assert.match(
      (await driver.send(encodeCommand('PUTSCRIPT', 'big', big))).reply,
      /^NO \(QUOTA\/MAXSIZE\) "The script is 4098 octets, at most 4096/,
    );
    assert.match((await driver.send('HAVESPACE "big" 5000\r\n')).reply, /^NO \(QUOTA\/MAXSIZE\)/);
    assert.equal(
      (await driver.send('HAVESPACE "big" 100\r\n')).reply,
      'OK "Putting the script will succeed"\r\n',
    );
    const huge = Buffer.alloc(9000, 0x61);
    const { reply } = await driver.send(
      Buffer.concat([Buffer.from('PUTSCRIPT "huge" {9000+}\r\n'), huge, Buffer.from('\r\n')]),
    );
    assert.equal(reply, 'NO (QUOTA/MAXSIZE) "a literal of 9000 octets is over the limit of 8192"\r\n');
    for (const name of ['a', 'b', 'c']) await driver.send(encodeCommand('PUTSCRIPT', name, 'keep;'));
    assert.match(
      (await driver.send(encodeCommand('PUTSCRIPT', 'd', 'keep;'))).reply,
      /^NO \(QUOTA\/MAXSCRIPTS\)/,
    );
    assert.match((await driver.send('HAVESPACE "d" 10\r\n')).reply, /^NO \(QUOTA\/MAXSCRIPTS\)/);
    assert.equal(
      (await driver.send(encodeCommand('PUTSCRIPT', 'a', 'stop;'))).reply,
      'OK "Stored"\r\n',
      'replacing is not a new script',
    );
  });

  test('a down store is NO (TRYLATER), and the session goes on once it is back', async () => {
    const driver = new Driver(deps, true);
    await driver.login();
    store.down = true;
    for (const command of [
      'LISTSCRIPTS',
      'GETSCRIPT "a"',
      'SETACTIVE "a"',
      'DELETESCRIPT "a"',
      'RENAMESCRIPT "a" "b"',
      'HAVESPACE "a" 1',
    ]) {
      assert.equal(
        (await driver.send(`${command}\r\n`)).reply,
        'NO (TRYLATER) "Temporary failure, try again later"\r\n',
        command,
      );
    }
    assert.match((await driver.send(encodeCommand('PUTSCRIPT', 'a', 'keep;'))).reply, /^NO \(TRYLATER\)/);
    store.down = false;
    assert.equal((await driver.send(encodeCommand('PUTSCRIPT', 'a', 'keep;'))).reply, 'OK "Stored"\r\n');
  });

  test('bad input: NO with the reason, BYE for an unreadable literal or after 20 bad lines; names must be UTF-8', async () => {
    const driver = new Driver(deps, true);
    await driver.login();
    assert.equal((await driver.send('FROB\r\n')).reply, 'NO "unknown command FROB"\r\n');
    const badName = Buffer.concat([
      Buffer.from('PUTSCRIPT {2+}\r\n'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' "keep;"\r\n'),
    ]);
    assert.equal(
      (await driver.send(badName)).reply,
      'NO "PUTSCRIPT: the script name is not valid UTF-8"\r\n',
    );
    assert.match((await driver.send(`NOOP "${'x'.repeat(2000)}"\r\n`)).reply, /^NO "line too long/);
    for (let i = 0; i < 16; i++) await driver.send('FROB\r\n');
    assert.deepEqual(await driver.send('FROB\r\n'), {
      reply: 'BYE "Too many bad commands"\r\n',
      action: 'close',
    });
    const other = new Driver(deps, true);
    assert.deepEqual(await other.send('PUTSCRIPT "s" {99999999999+}\r\n'), {
      reply: 'BYE "literal length out of range"\r\n',
      action: 'close',
    });
  });

  test('the per-user cap across pods: NO (TRYLATER), still logged out', async () => {
    const driver = new Driver(deps, true);
    driver.admit = false;
    const { reply } = await driver.send(
      `AUTHENTICATE "PLAIN" "${encodePlainResponse(ADDRESS, PASSWORD)}"\r\n`,
    );
    assert.equal(reply, 'NO (TRYLATER) "Too many sessions for this account"\r\n');
    assert.equal(driver.session.authenticated, false);
  });

  test('any sequence of commands and garbage: never a throw, every answer whole CRLF lines, nothing once closed', async () => {
    const command = fc.oneof(
      fc.constantFrom(
        'CAPABILITY',
        'NOOP "t"',
        'LISTSCRIPTS',
        'SETACTIVE ""',
        'SETACTIVE "a"',
        'GETSCRIPT "a"',
        'DELETESCRIPT "a"',
        'RENAMESCRIPT "a" "b"',
        'HAVESPACE "a" 10',
        'UNAUTHENTICATE',
        'STARTTLS',
        'AUTHENTICATE "PLAIN"',
        '"*"',
        `AUTHENTICATE "PLAIN" "${encodePlainResponse(ADDRESS, PASSWORD)}"`,
        'PUTSCRIPT "a" {5+}\r\nkeep;',
        'CHECKSCRIPT "if true {"',
        'PUTSCRIPT "a" {99999999999+}',
      ),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), fc.boolean(), async (commands, down) => {
        const driver = new Driver(deps, true);
        store.down = down;
        let closed = false;
        for (const line of commands) {
          const { reply, action } = await driver.send(`${line}\r\n`);
          if (closed) assert.equal(reply, '', 'nothing after close');
          if (reply !== '') assert.ok(reply.endsWith('\r\n'), JSON.stringify(reply));
          if (action === 'close') closed = true;
        }
        store.down = false;
        driver.session.close();
      }),
      { numRuns: 200 },
    );
  });
});
