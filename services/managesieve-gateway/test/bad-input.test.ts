import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createLoginLimiter,
  DEFAULT_FAILURE_DELAY_MS,
  encodePlainResponse,
  loginFailureCounter,
  LoginPolicy,
  loginMetrics,
} from '@correo/auth';
import { encodeCommand } from '@correo/managesieve-proto';
import { listSieveScriptNames } from '@correo/store';
import { CounterWatch, RecordingClock, type LineClient } from '@correo/testkit';
import type { ManageSieveGateway } from '../src/index.js';
import { connectRaw, loggedIn, readResponse } from './helpers/raw-client.js';
import { ManageSieveTestStack } from './helpers/stack.js';

/** The failure window of the strict gateway's limiter; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('ManageSieve over real sockets: the login policy and the worst input per command', () => {
  let stack: ManageSieveTestStack;
  /** TLS required for AUTHENTICATE, as in production. */
  let strict: ManageSieveGateway;
  /** Loopback plaintext allowed (the dev setting), small limits. */
  let loose: ManageSieveGateway;
  let clock: RecordingClock;

  before(async () => {
    stack = await ManageSieveTestStack.create('embedded');
    clock = new RecordingClock();
    const loginLimiter = createLoginLimiter(stack.limits, {
      freeFailures: 10,
      loginLockAfter: 2,
      windowMs: LOCKOUT_WINDOW_MS,
    });
    strict = await stack.startGateway(
      { maxAuthFailures: 10 },
      { loginPolicy: new LoginPolicy(loginLimiter, clock) },
    );
    loose = await stack.startGateway({
      allowPlaintextAuthOnLoopback: true,
      maxLiteralBytes: 64 * 1024,
      maxScriptBytes: 16 * 1024,
      maxScripts: 5,
    });
  });
  after(() => stack.close());

  test('AUTHENTICATE before STARTTLS: NO (ENCRYPT-NEEDED), counted refused; pipelined plaintext is dropped at STARTTLS', async () => {
    const { address } = await stack.account('tls-first');
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'managesieve' });
    const { client, greeting } = await connectRaw(strict.port);
    try {
      assert.ok(greeting.data.includes('"SASL" ""') && greeting.data.includes('"STARTTLS"'));
      client.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, stack.password)}"`);
      assert.equal(
        (await readResponse(client)).status,
        'NO (ENCRYPT-NEEDED) "AUTHENTICATE needs TLS: use STARTTLS first"',
      );
      // A command pipelined behind STARTTLS in the same packet must not run after the handshake.
      client.write('STARTTLS\r\nDELETESCRIPT "x"\r\n');
      assert.equal((await readResponse(client)).status, 'OK "Begin TLS negotiation"');
      const secured = await client.startTls(stack.tls.cert);
      const again = await readResponse(secured);
      assert.equal(again.status, 'OK "TLS active"', 'RFC 5804 2.2: capabilities re-issued unasked');
      assert.ok(again.data.includes('"SASL" "PLAIN LOGIN"') && !again.data.includes('"STARTTLS"'));
      secured.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, stack.password)}"`);
      assert.equal((await readResponse(secured)).status, 'OK "Logged in"');
      secured.writeLine('NOOP "after"');
      assert.equal(
        (await readResponse(secured)).status,
        'OK (TAG "after") "Done"',
        'nothing else was answered first',
      );
      secured.destroy();
    } finally {
      client.destroy();
    }
    assert.deepEqual(await logins.added(), { refused: 1, success: 1 });
  });

  test('a locked-out login is answered as a wrong password: same reply, same wait, counted locked_out', async () => {
    const { address } = await stack.account('locked');
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'managesieve' });
    const { client } = await connectRaw(strict.port);
    client.writeLine('STARTTLS');
    await readResponse(client);
    const secured = await client.startTls(stack.tls.cert);
    await readResponse(secured);
    try {
      const attempt = (password: string) =>
        clock.during(async () => {
          secured.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, password)}"`);
          return (await readResponse(secured)).status;
        });
      const answers = [await attempt('wrong'), await attempt('wrong again'), await attempt(stack.password)];
      const failure = { result: 'NO "Authentication failed"', waits: [DEFAULT_FAILURE_DELAY_MS] };
      assert.deepEqual(answers, [failure, failure, failure]);
      // Positive control: the same password, accepted once the lockout's window has run out.
      await stack.endCounterWindow(loginFailureCounter(await stack.loginKey(address)), LOCKOUT_WINDOW_MS);
      assert.equal((await attempt(stack.password)).result, 'OK "Logged in"');
    } finally {
      secured.destroy();
    }
    assert.deepEqual(await logins.added(), { failure: 2, locked_out: 1, success: 1 });
  });

  test('a huge literal is skipped as it streams: NO (QUOTA/MAXSIZE), and the session goes on', async () => {
    const { address, accountId } = await stack.account('huge');
    const client = await loggedIn(loose.port, address, stack.password);
    try {
      const size = 8 * 1024 * 1024;
      client.write(`PUTSCRIPT "huge" {${size}+}\r\n`);
      const chunk = Buffer.alloc(1024 * 1024, 0x23);
      for (let i = 0; i < size / chunk.length; i++) client.write(chunk);
      client.write('\r\n');
      assert.equal(
        (await readResponse(client)).status,
        `NO (QUOTA/MAXSIZE) "a literal of ${size} octets is over the limit of ${64 * 1024}"`,
      );
      client.write(encodeCommand('PUTSCRIPT', 'big-script', `#${'x'.repeat(20 * 1024)}\n`));
      assert.match((await readResponse(client)).status, /^NO \(QUOTA\/MAXSIZE\) "The script is 20482 octets/);
      client.writeLine('NOOP');
      assert.equal((await readResponse(client)).status, 'OK "Done"');
      assert.deepEqual(await listSieveScriptNames(stack.pool, accountId), []);
    } finally {
      client.destroy();
    }
  });

  test('an unterminated literal: the idle timer ends that session with BYE, other sessions are not held up', async () => {
    const { address } = await stack.account('unterminated');
    // A short idle timer on a gateway of its own: on the shared one it could cut a slow login short.
    const idling = await stack.startGateway({ allowPlaintextAuthOnLoopback: true, idleTimeoutMs: 1000 });
    const stuck = await loggedIn(idling.port, address, stack.password);
    stuck.write('PUTSCRIPT "s" {100+}\r\nkeep;');
    const other = await loggedIn(idling.port, address, stack.password);
    try {
      other.writeLine('LISTSCRIPTS');
      assert.equal((await readResponse(other)).status, 'OK');
      assert.match(await stuck.readLine(), /^BYE /);
      assert.equal(await stuck.closedWithin(), true);
    } finally {
      stuck.destroy();
      other.destroy();
    }
  });

  test('after UNAUTHENTICATE the pre-auth time runs again: a silent client gets the BYE of one that never logged in', async () => {
    const { address } = await stack.account('unauthenticate');
    // Ten minutes of idle time: a BYE within the test's read timeout can only come from the pre-auth timer.
    const gateway = await stack.startGateway({
      allowPlaintextAuthOnLoopback: true,
      preAuthTimeoutMs: 2000,
      idleTimeoutMs: 600_000,
    });
    const stranger = (await connectRaw(gateway.port)).client;
    const returning = await loggedIn(gateway.port, address, stack.password);
    let silent: LineClient | undefined;
    try {
      returning.writeLine('UNAUTHENTICATE');
      assert.equal((await readResponse(returning)).status, 'OK "Logged out, authenticate again"');
      returning.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, stack.password)}"`);
      assert.equal((await readResponse(returning)).status, 'OK "Logged in"');
      silent = await loggedIn(gateway.port, address, stack.password);
      silent.writeLine('UNAUTHENTICATE');
      assert.equal((await readResponse(silent)).status, 'OK "Logged out, authenticate again"');
      const preAuthBye = 'BYE "Autologout: no login in time"';
      assert.equal(await stranger.readLine(), preAuthBye, 'the goodbye of a client that never logged in');
      assert.equal(await silent.readLine(), preAuthBye);
      assert.equal(await silent.closedWithin(), true);
      // `silent` logged out after `returning` did: had the second login not stopped the re-armed
      // deadline, `returning` would have had its BYE before the one just read.
      returning.writeLine('NOOP');
      assert.equal((await readResponse(returning)).status, 'OK "Done"');
    } finally {
      stranger.destroy();
      returning.destroy();
      silent?.destroy();
    }
  });

  test('a literal trickling below the minimum rate ends the session with BYE', async () => {
    const { address } = await stack.account('trickle');
    const gateway = await stack.startGateway({
      allowPlaintextAuthOnLoopback: true,
      minTransferRate: 10_000,
      transferRateWindowMs: 300,
    });
    const client = await loggedIn(gateway.port, address, stack.password);
    try {
      client.write('PUTSCRIPT "slow" {100000+}\r\nrequire "fileinto";\r\n');
      assert.equal(await client.readLine(), 'BYE "Literal data arrives too slowly"');
      await client.closed();
    } finally {
      client.destroy();
    }
  });

  test('a script name that is not UTF-8, or has a control character, is refused with the reason', async () => {
    const { address, accountId } = await stack.account('names');
    const client = await loggedIn(loose.port, address, stack.password);
    try {
      client.write(
        Buffer.concat([
          Buffer.from('PUTSCRIPT {3+}\r\n'),
          Buffer.from([0x61, 0xc3, 0x28]),
          Buffer.from(' "keep;"\r\n'),
        ]),
      );
      assert.equal((await readResponse(client)).status, 'NO "PUTSCRIPT: the script name is not valid UTF-8"');
      client.write(encodeCommand('PUTSCRIPT', 'tab\there', 'keep;'));
      assert.equal(
        (await readResponse(client)).status,
        'NO "PUTSCRIPT: a script name may not contain control characters"',
      );
      client.write(encodeCommand('PUTSCRIPT', 'ünïcødé ✓', 'keep;'));
      assert.equal((await readResponse(client)).status, 'OK "Stored"');
      assert.deepEqual(await listSieveScriptNames(stack.pool, accountId), [
        { name: 'ünïcødé ✓', active: false },
      ]);
    } finally {
      client.destroy();
    }
  });

  test('10,000 PUTSCRIPTs in one burst: every one answered, only MANAGESIEVE_MAX_SCRIPTS stored', async () => {
    const { address, accountId } = await stack.account('burst');
    const client = await loggedIn(loose.port, address, stack.password);
    try {
      const count = 10_000;
      client.write(
        Buffer.concat(Array.from({ length: count }, (_, i) => encodeCommand('PUTSCRIPT', `s${i}`, 'keep;'))),
      );
      const statuses = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const { status } = await readResponse(client);
        statuses.set(status.slice(0, 20), (statuses.get(status.slice(0, 20)) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries(statuses), { 'OK "Stored"': 5, 'NO (QUOTA/MAXSCRIPTS': count - 5 });
      assert.equal((await listSieveScriptNames(stack.pool, accountId)).length, 5);
      client.writeLine('NOOP');
      assert.equal((await readResponse(client)).status, 'OK "Done"');
    } finally {
      client.destroy();
    }
  });

  test('logged-in sessions per account are capped across pods: NO (TRYLATER) on another gateway', async () => {
    const { address } = await stack.account('capped');
    const settings = { allowPlaintextAuthOnLoopback: true, maxConnectionsPerUser: 1 };
    // Two gateways over the same limits store, as two pods over one Redis.
    const [first, second] = [await stack.startGateway(settings), await stack.startGateway(settings)];
    const holder = await loggedIn(first.port, address, stack.password);
    const { client } = await connectRaw(second.port);
    try {
      client.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, stack.password)}"`);
      assert.equal((await readResponse(client)).status, 'NO (TRYLATER) "Too many sessions for this account"');
      client.writeLine('LISTSCRIPTS');
      assert.equal((await readResponse(client)).status, 'NO "LISTSCRIPTS needs AUTHENTICATE first"');
    } finally {
      client.destroy();
      holder.destroy();
    }
  });
});
