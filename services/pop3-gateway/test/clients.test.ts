import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram, uniqueName } from '@correo/testkit';
import type { Pop3Gateway } from '../src/index.js';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

const POPLIB_CLIENT = fileURLToPath(new URL('./clients/poplib_client.py', import.meta.url));

interface PoplibResult {
  continuation?: string;
  capa_before?: string[];
  login?: string;
  error?: string;
  stat?: [number, number];
  list?: string[];
  uidl?: string[];
  capa?: string[];
  messages?: { reply: string; text: string }[];
  top?: string[];
  dele?: string;
  quit?: string;
}

describe('real clients: poplib and curl (MinIO, Redis)', () => {
  let stack: Pop3TestStack;
  let strict: Pop3Gateway;
  let loopbackAllowed: Pop3Gateway;
  let caFile: string;

  before(async () => {
    stack = await Pop3TestStack.create('distributed');
    strict = await stack.startGateway({ allowPlaintextAuthOnLoopback: false });
    loopbackAllowed = await stack.startGateway({ allowPlaintextAuthOnLoopback: true });
    caFile = join(tmpdir(), `${uniqueName('pop3-ca')}.pem`);
    await writeFile(caFile, stack.tls.cert);
  });
  after(async () => {
    await stack.close();
    await rm(caFile, { force: true });
  });

  async function poplib(mode: string, port: number, user: string): Promise<PoplibResult> {
    const result = await runProgram('python3', [
      POPLIB_CLIENT,
      mode,
      '127.0.0.1',
      String(port),
      user,
      stack.password,
      caFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as PoplibResult;
  }

  test('poplib: USER before TLS is refused outside the loopback allowance, STLS is offered', async () => {
    const { address } = await stack.account('plain');
    const result = await poplib('plaintext', strict.ports.pop3, address);
    assert.match(result.error ?? '', /^-ERR \[AUTH\] Plaintext authentication is not allowed without TLS/);
    assert.ok(result.capa_before?.includes('STLS'));
    assert.ok(!result.capa_before?.includes('USER'));
    assert.ok(!result.capa_before?.includes('SASL'));
  });

  test('poplib: STLS then USER/PASS reads every message; DELE + QUIT removes one', async () => {
    const { accountId, address } = await stack.account('stls');
    const texts = [rawMessage('alpha', ['Hi', '.dot line']), rawMessage('beta', ['Bye'])];
    for (const text of texts) await stack.deliver(accountId, address, text);
    const inbox = await stack.inbox(accountId);
    const uids = await stack.uids(accountId);

    const result = await poplib('stls-user', strict.ports.pop3, address);
    assert.equal(result.error, undefined);
    assert.match(result.login!, /^\+OK Logged in, 2 messages/);
    assert.equal(result.stat![0], 2);
    assert.deepEqual(
      result.uidl,
      uids.map((uid, i) => `${i + 1} ${inbox.uidvalidity}.${uid}`),
    );
    assert.deepEqual(
      result.messages!.map((m) => m.text + '\r\n'),
      texts,
    );
    const sizes = result.list!.map((line) => Number(line.split(' ')[1]));
    assert.deepEqual(
      sizes,
      texts.map((text) => Buffer.byteLength(text)),
    );
    assert.equal(result.stat![1], sizes[0]! + sizes[1]!);
    assert.ok(result.capa!.includes('UIDL') && result.capa!.includes('TOP'));
    assert.ok(result.top!.includes('Subject: alpha'));
    assert.match(result.quit!, /^\+OK Bye, 1 messages deleted/);
    assert.deepEqual(await stack.uids(accountId), [uids[1]]);
  });

  test('poplib: STLS then AUTH PLAIN with a continuation', async () => {
    const { accountId, address } = await stack.account('stlsauth');
    await stack.deliver(accountId, address, rawMessage('after stls'));
    const result = await poplib('stls-auth', strict.ports.pop3, address);
    assert.equal(result.error, undefined);
    assert.equal(result.continuation, '+ ');
    assert.match(result.login!, /^\+OK Logged in, 1 messages/);
    assert.match(result.messages![0]!.text, /Subject: after stls/);
  });

  test('poplib: implicit TLS on the POP3S port with AUTH PLAIN', async () => {
    const { accountId, address } = await stack.account('pop3s');
    await stack.deliver(accountId, address, rawMessage('over tls'));
    const result = await poplib('pop3s-plain', strict.ports.pop3s, address);
    assert.equal(result.error, undefined);
    assert.match(result.login!, /^\+OK Logged in, 1 messages/);
    assert.match(result.messages![0]!.text, /Subject: over tls/);
  });

  test('curl pop3:// with STLS required: list and retr', async () => {
    const { accountId, address } = await stack.account('curl');
    const text = rawMessage('curl me', ['line 1', '..double dot']);
    await stack.deliver(accountId, address, text);
    const base = `pop3://127.0.0.1:${strict.ports.pop3}`;
    const auth = ['--user', `${address}:${stack.password}`, '--ssl-reqd', '--cacert', caFile, '-sS'];
    const list = await runProgram('curl', [...auth, `${base}/`]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `1 ${Buffer.byteLength(text)}\r\n`);
    const retr = await runProgram('curl', [...auth, `${base}/1`]);
    assert.equal(retr.code, 0, retr.stderr);
    assert.equal(retr.stdout, text);
  });

  test('curl pop3s:// retr, and plaintext pop3:// only under the loopback allowance', async () => {
    const { accountId, address } = await stack.account('curl2');
    const text = rawMessage('curl plain');
    await stack.deliver(accountId, address, text);
    const user = ['--user', `${address}:${stack.password}`, '-sS'];
    const implicit = await runProgram('curl', [
      ...user,
      '--cacert',
      caFile,
      `pop3s://127.0.0.1:${strict.ports.pop3s}/1`,
    ]);
    assert.equal(implicit.code, 0, implicit.stderr);
    assert.equal(implicit.stdout, text);

    const allowed = await runProgram('curl', [...user, `pop3://127.0.0.1:${loopbackAllowed.ports.pop3}/1`]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout, text);

    const refused = await runProgram('curl', [...user, `pop3://127.0.0.1:${strict.ports.pop3}/1`]);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stdout, '');
  });
});
