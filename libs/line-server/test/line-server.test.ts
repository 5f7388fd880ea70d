import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import { LineClient, eventually } from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import type { TlsMaterial } from '@correo/tls';
import type { LineServer } from '../src/index.js';
import { proxyV1, proxyV2 } from './proxy-headers.js';
import { newControl, startToyServer } from './toy-protocol.js';
import type { ToyControl } from './toy-protocol.js';

describe('line server', () => {
  let tls: TlsMaterial;
  let tlsDir: string;
  const servers: LineServer<string>[] = [];
  const clients: LineClient[] = [];

  before(async () => {
    tlsDir = await mkdtemp(join(tmpdir(), 'line-server-tls-'));
    tls = await loadTlsMaterial({ dataDir: tlsDir, hostname: 'localhost' });
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await Promise.all(servers.map((server) => server.close()));
    await rm(tlsDir, { recursive: true, force: true });
  });

  async function start(control: ToyControl, overrides: Parameters<typeof startToyServer>[2] = {}) {
    const server = await startToyServer(control, tls, overrides);
    servers.push(server);
    return server;
  }

  async function client(port: number, preface?: Buffer): Promise<LineClient> {
    const connected = await LineClient.connect(port, { preface });
    clients.push(connected);
    return connected;
  }

  /** The TLS layer over a connection whose server just said "go". */
  async function secure(plain: LineClient): Promise<LineClient> {
    const secured = await plain.startTls(tls.cert);
    clients.push(secured);
    return secured;
  }

  test('pipelined commands are answered one at a time, in order', async () => {
    const server = await start(newControl());
    const c = await client(server.ports.plain);
    assert.equal(await c.readLine(), '* HELLO');
    c.socket.write('ECHO one\r\nECHO two\r\nWHO\r\nECHO three\r\n');
    assert.deepEqual(
      [await c.readLine(), await c.readLine(), await c.readLine(), await c.readLine()],
      ['one', 'two', '127.0.0.1 plain', 'three'],
    );
    assert.equal(await c.ask('QUIT'), 'OK bye');
    await c.closed();
  });

  test('writes wait for a client that does not read; other sessions go on meanwhile', async () => {
    const control = newControl();
    const server = await start(control);
    const total = 64 * 1024 * 1024;
    const reader = connectTcp({ port: server.ports.plain, host: '127.0.0.1' });
    await once(reader, 'connect');
    reader.pause();
    reader.write(`BIG ${total}\r\n`);
    await eventually('the server to wait for the client to read', () => control.bigBlocked);
    // What the kernel and the socket buffer hold, not the whole reply: the rest was never produced.
    assert.ok(control.bigAccepted < total / 2, `${control.bigAccepted} octets accepted of ${total}`);
    const other = await client(server.ports.plain);
    await other.readLine();
    assert.equal(await other.ask('ECHO still answered'), 'still answered');
    let received = 0;
    let tail = '';
    reader.on('data', (chunk: Buffer) => {
      received += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-64);
    });
    reader.resume();
    await eventually('the whole reply to arrive', () => tail.endsWith('OK big done\r\n'));
    assert.equal(received, '* HELLO\r\n'.length + total + '\r\nOK big done\r\n'.length);
    assert.equal(control.bigAccepted, total);
    reader.destroy();
  });

  test('a full consumer of a bulk transfer stops the reading of the socket until it drains', async () => {
    const control = newControl();
    const server = await start(control);
    const c = await client(server.ports.plain);
    await c.readLine();
    const total = 32 * 1024 * 1024;
    c.socket.write(`UPLOAD ${total}\r\n`);
    c.socket.write(Buffer.alloc(total, 'u'));
    await eventually('the consumer to be full', () => control.readingHeld);
    const held = control.uploaded;
    // Round trips on another connection: the server's loop turns, and would read more if it could.
    const other = await client(server.ports.plain);
    await other.readLine();
    for (let i = 0; i < 20; i++) assert.equal(await other.ask(`ECHO ${i}`), String(i));
    assert.equal(control.uploaded, held, 'nothing more was read while the consumer was full');
    assert.ok(held < total, `${held} octets read of ${total}`);
    control.sink.resume();
    assert.equal(await c.readLine(), `OK uploaded ${total}`);
    assert.equal(control.uploaded, total);
  });

  test('STARTTLS drops what was pipelined behind it in plaintext', async () => {
    const server = await start(newControl());
    const c = await client(server.ports.plain);
    await c.readLine();
    c.socket.write('STARTTLS\r\nECHO injected\r\n');
    assert.equal(await c.readLine(), 'OK go');
    const s = await secure(c);
    assert.equal(
      await s.ask('ECHO after'),
      'after',
      'the first answer over TLS is to a command sent over TLS',
    );
    assert.equal(await s.ask('WHO'), '127.0.0.1 tls');
  });

  test('the implicit-TLS listener serves over TLS from the first octet', async () => {
    const server = await start(newControl());
    const c = await LineClient.connect(server.ports.secure, { tls: { ca: tls.cert } });
    clients.push(c);
    assert.equal(await c.readLine(), '* HELLO');
    assert.equal(await c.ask('WHO'), '127.0.0.1 tls');
  });

  test('a renewed certificate reaches new connections (implicit TLS and STARTTLS); an open one keeps its own', async () => {
    const server = await start(newControl());
    const renewedDir = await mkdtemp(join(tmpdir(), 'line-server-renewed-'));
    try {
      const renewed = await loadTlsMaterial({ dataDir: renewedDir, hostname: 'localhost' });
      const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
      const presented = (c: LineClient) => (c.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const before = await LineClient.connect(server.ports.secure, { tls: { ca: tls.cert } });
      clients.push(before);
      await before.readLine();
      assert.equal(presented(before), fingerprint(tls.cert));

      server.updateTls(renewed);

      const after = await LineClient.connect(server.ports.secure, { tls: { ca: renewed.cert } });
      clients.push(after);
      assert.equal(await after.readLine(), '* HELLO');
      assert.equal(presented(after), fingerprint(renewed.cert));
      const plain = await client(server.ports.plain);
      await plain.readLine();
      assert.equal(await plain.ask('STARTTLS'), 'OK go');
      const upgraded = await plain.startTls(renewed.cert);
      clients.push(upgraded);
      assert.equal(presented(upgraded), fingerprint(renewed.cert));
      assert.equal(await upgraded.ask('WHO'), '127.0.0.1 tls');
      // The session opened before the renewal goes on over its own handshake.
      assert.equal(await before.ask('ECHO still here'), 'still here');
    } finally {
      await rm(renewedDir, { recursive: true, force: true });
    }
  });

  test('no login within the pre-auth time ends the connection, however active the client is', async () => {
    const server = await start(newControl(), { timers: { idleTimeoutMs: 60_000, preAuthTimeoutMs: 400 } });
    const member = await client(server.ports.plain);
    const stranger = await client(server.ports.plain);
    await member.readLine();
    assert.equal(await member.ask('LOGIN'), 'OK logged in');
    await stranger.readLine();
    let answer: string;
    do answer = await stranger.ask('ECHO busy');
    while (answer === 'busy');
    assert.equal(answer, '* BYE timeout Autologout: no login in time');
    await stranger.closed();
    assert.equal(await member.ask('ECHO still here'), 'still here');
  });

  test('a logout that keeps the connection runs the pre-auth time again; the next login stops it again', async () => {
    const server = await start(newControl(), { timers: { idleTimeoutMs: 600_000, preAuthTimeoutMs: 400 } });
    const returning = await client(server.ports.plain);
    const silent = await client(server.ports.plain);
    await returning.readLine();
    await silent.readLine();
    assert.equal(await returning.ask('LOGIN'), 'OK logged in');
    assert.equal(await returning.ask('UNAUTH'), 'OK logged out');
    assert.equal(await returning.ask('LOGIN'), 'OK logged in');
    // Logged out after `returning` was: its deadline, had the second login not stopped it, passed first.
    assert.equal(await silent.ask('LOGIN'), 'OK logged in');
    assert.equal(await silent.ask('UNAUTH'), 'OK logged out');
    // Only the pre-auth timer can say this: the idle timeout is ten minutes.
    assert.equal(await silent.readLine(), '* BYE timeout Autologout: no login in time');
    await silent.closed();
    assert.equal(await returning.ask('ECHO still here'), 'still here');
  });

  test('an idle session is logged out; one held by IDLE is not', async () => {
    const server = await start(newControl(), { timers: { idleTimeoutMs: 400, preAuthTimeoutMs: 60_000 } });
    const idler = await client(server.ports.plain);
    await idler.readLine();
    assert.equal(await idler.ask('IDLE'), '+ idling');
    const silent = await client(server.ports.plain);
    await silent.readLine();
    // The silent client's timer started after IDLE began, so IDLE has been quiet longer.
    assert.equal(await silent.readLine(), '* BYE timeout Autologout: idle for too long');
    await silent.closed();
    assert.equal(await idler.ask('DONE'), 'OK idle done');
  });

  test('a client waiting for a slow answer is not idle', async () => {
    const control = newControl();
    const server = await start(control, { timers: { idleTimeoutMs: 400, preAuthTimeoutMs: 60_000 } });
    const waiting = await client(server.ports.plain);
    await waiting.readLine();
    waiting.socket.write('SLOW\r\n');
    await eventually('the slow command to run', () => control.slowRunning === 1);
    const silent = await client(server.ports.plain);
    await silent.readLine();
    assert.equal(await silent.readLine(), '* BYE timeout Autologout: idle for too long');
    control.releaseSlow();
    assert.equal(await waiting.readLine(), 'OK slow done');
  });

  test('connections per client address are capped with the protocol goodbye', async () => {
    const server = await start(newControl(), { maxConnectionsPerIp: 1 });
    const first = await client(server.ports.plain);
    assert.equal(await first.readLine(), '* HELLO');
    const second = await client(server.ports.plain);
    assert.equal(await second.readLine(), '* BYE limit Too many connections from your address');
    await second.closed();
  });

  test('caps across two servers sharing their limits: per address at accept, per user and user+address at login', async () => {
    const limits = createMemoryLimits({ state: new MemoryLimitsState() });
    const caps = { limits, maxConnectionsPerIp: 3, maxConnectionsPerUser: 2, maxConnectionsPerUserIp: 1 };
    const [a, b] = [await start(newControl(), caps), await start(newControl(), caps)];
    const first = await client(a.ports.plain);
    const second = await client(b.ports.plain);
    const third = await client(b.ports.plain);
    for (const c of [first, second, third]) assert.equal(await c.readLine(), '* HELLO');
    const fourth = await client(a.ports.plain);
    assert.equal(await fourth.readLine(), '* BYE limit Too many connections from your address');
    assert.equal(await first.ask('LOGIN alice'), 'OK logged in');
    // alice from the same address on the other server: per user+address.
    assert.equal(await second.ask('LOGIN alice'), 'NO too many sessions of this user');
    assert.equal(await second.ask('LOGIN bob'), 'OK logged in', 'another user has slots of their own');
    first.socket.destroy();
    await eventually(
      'alice’s slots to be free',
      async () => (await third.ask('LOGIN alice')) === 'OK logged in',
    );
    // The closed connection's slot went back: only the third connection holds one for alice now.
    assert.equal(await limits.countLeases('toy:user:alice'), 1);
  });

  test('a logout that keeps the connection gives the user’s slots back, on this server and across servers', async () => {
    const limits = createMemoryLimits({ state: new MemoryLimitsState() });
    const caps = { limits, maxConnectionsPerUser: 1, maxConnectionsPerUserIp: 1 };
    const [a, b] = [await start(newControl(), caps), await start(newControl(), caps)];
    const first = await client(a.ports.plain);
    const second = await client(a.ports.plain);
    const elsewhere = await client(b.ports.plain);
    for (const c of [first, second, elsewhere]) assert.equal(await c.readLine(), '* HELLO');
    assert.equal(await first.ask('LOGIN alice'), 'OK logged in');
    assert.equal(await first.ask('UNAUTH'), 'OK logged out');
    assert.equal(await first.ask('LOGIN alice'), 'OK logged in', 'its own earlier login is not in the way');
    assert.equal(await first.ask('UNAUTH'), 'OK logged out');
    assert.equal(await first.ask('LOGIN bob'), 'OK logged in');
    // `first` is still open, now as bob: none of alice's slots, here or across servers, is its own.
    assert.equal(await limits.countLeases('toy:user:alice'), 0);
    assert.equal(await limits.countLeases('toy:user-ip:alice:127.0.0.1'), 0);
    assert.equal(await limits.countLeases('toy:user:bob'), 1);
    assert.equal(await second.ask('LOGIN alice'), 'OK logged in');
    assert.equal(
      await elsewhere.ask('LOGIN alice'),
      'NO too many sessions of this user',
      'the cap still holds',
    );
    assert.equal(await second.ask('UNAUTH'), 'OK logged out');
    assert.equal(await elsewhere.ask('LOGIN alice'), 'OK logged in');
    assert.equal(await limits.countLeases('toy:user:alice'), 1);
  });

  test('drain: goodbye at once between commands and in IDLE, after the command under way otherwise', async () => {
    const control = newControl();
    const server = await start(control);
    const waiting = await client(server.ports.plain);
    const idling = await client(server.ports.plain);
    const working = await client(server.ports.plain);
    for (const c of [waiting, idling, working]) await c.readLine();
    assert.equal(await idling.ask('IDLE'), '+ idling');
    working.socket.write('SLOW\r\n');
    await eventually('the slow command to run', () => control.slowRunning === 1);

    const closed = server.close();
    assert.equal(await waiting.readLine(), '* BYE shutdown Server shutting down');
    assert.equal(await idling.readLine(), '* BYE shutdown Server shutting down');
    await Promise.all([waiting.closed(), idling.closed()]);
    await assert.rejects(LineClient.connect(server.ports.plain), /ECONNREFUSED/);

    control.releaseSlow();
    // The command under way was not interrupted: its answer comes before the goodbye.
    assert.equal(await working.readLine(), 'OK slow done');
    assert.equal(await working.readLine(), '* BYE shutdown Server shutting down');
    await working.closed();
    await closed;
  });

  test('a stream layer (deflate) carries both directions, pipelining and the drain goodbye', async () => {
    const server = await start(newControl());
    const socket = connectTcp({ port: server.ports.plain, host: '127.0.0.1' });
    let text = '';
    const waiters: (() => void)[] = [];
    const heard = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      for (const waiter of waiters.splice(0)) waiter();
    };
    const until = async (expected: string) => {
      while (!text.includes(expected)) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    socket.on('data', heard);
    await until('* HELLO\r\n');
    socket.write('DEFLATE\r\n');
    await until('OK deflating\r\n');
    socket.off('data', heard);
    text = '';
    // The server closes without ending the deflate stream (RFC 4978 asks for no end): an unfinished stream.
    const inflate = createInflateRaw().on('error', () => {});
    socket.pipe(inflate).on('data', heard);
    const deflate = createDeflateRaw();
    deflate.pipe(socket);
    const send = (line: string) => {
      deflate.write(line);
      deflate.flush(constants.Z_SYNC_FLUSH);
    };
    send('ECHO one\r\nECHO two\r\n');
    await until('one\r\ntwo\r\n');
    send('DEFLATE\r\n');
    await until('NO deflating already\r\n');
    const closing = once(socket, 'close');
    await server.close();
    await until('* BYE shutdown Server shutting down\r\n');
    await closing;
  });

  test('drain cuts a session that outlives the grace period', async () => {
    const control = newControl();
    const server = await start(control, { drainGraceMs: 200 });
    const working = await client(server.ports.plain);
    await working.readLine();
    working.socket.write('SLOW\r\n');
    await eventually('the slow command to run', () => control.slowRunning === 1);
    await server.close();
    await working.closed();
    control.releaseSlow();
  });

  describe('PROXY protocol', () => {
    test('v2 from a trusted balancer: the session, and the caps, see the client behind it', async () => {
      const server = await start(newControl(), { trustedProxies: ['127.0.0.0/8'], maxConnectionsPerIp: 1 });
      const viaBalancer = (source: string, version: 1 | 2 = 2) =>
        client(server.ports.plain, version === 2 ? proxyV2(source, 40000) : proxyV1(source, 40000));
      const a = await viaBalancer('203.0.113.7');
      assert.equal(await a.readLine(), '* HELLO');
      assert.equal(await a.ask('WHO'), '203.0.113.7 plain');
      const b = await viaBalancer('2001:db8::1', 1);
      assert.equal(await b.readLine(), '* HELLO', 'another client behind the same balancer has its own cap');
      assert.equal(await b.ask('WHO'), '2001:db8::1 plain');
      const again = await viaBalancer('203.0.113.7');
      assert.equal(await again.readLine(), '* BYE limit Too many connections from your address');
    });

    test('v2 in front of the implicit-TLS listener, the handshake right behind it', async () => {
      const server = await start(newControl(), { trustedProxies: ['127.0.0.1/32'] });
      const plain = await client(server.ports.secure, proxyV2('198.51.100.20', 1234));
      const c = await secure(plain);
      assert.equal(await c.readLine(), '* HELLO');
      assert.equal(await c.ask('WHO'), '198.51.100.20 tls');
    });

    test('a header from an untrusted peer is refused and the connection closed', async () => {
      const server = await start(newControl(), { trustedProxies: ['10.0.0.0/8'] });
      for (const header of [proxyV2('203.0.113.9', 1), proxyV1('203.0.113.9', 1)]) {
        const c = await client(server.ports.plain);
        assert.equal(await c.readLine(), '* HELLO');
        c.socket.write(Buffer.concat([header, Buffer.from('WHO\r\n')]));
        assert.equal(await c.readLine(), '* BYE protocol PROXY header not accepted from your address');
        await c.closed();
      }
    });

    test('a trusted peer without a valid header is dropped before any greeting', async () => {
      const server = await start(newControl(), { trustedProxies: ['127.0.0.1/32'] });
      const c = await client(server.ports.plain);
      c.write('ECHO no header\r\n');
      await assert.rejects(c.readLine(), /connection closed while waiting for line; unread: ""/);
    });
  });
});
