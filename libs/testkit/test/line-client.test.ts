import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '../src/line-client.js';

// A server that greets with half a line and then says nothing more: every read a test could make
// against it must fail with a message naming what it waited for, not hang the test. Each test has a
// runner timeout far above the read timeout, so a read without its own bound fails there instead.

const READ_TIMEOUT_MS = 300;
const RUNNER_TIMEOUT = { timeout: 10_000 };

describe('LineClient against a server that never answers', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  before(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.write('* OK half a gree');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const silent = () => LineClient.connect(port, { literals: true, readTimeoutMs: READ_TIMEOUT_MS });

  test('readLine fails with what it waited for and the unread bytes', RUNNER_TIMEOUT, async () => {
    const client = await silent();
    try {
      await assert.rejects(client.readLine(), {
        message: `no line from the server within ${READ_TIMEOUT_MS} ms; unread: "* OK half a gree"`,
      });
    } finally {
      client.destroy();
    }
  });

  test('an IMAP command waiting for its tagged completion fails the same way', RUNNER_TIMEOUT, async () => {
    const client = await silent();
    try {
      await assert.rejects(client.command('NOOP'), /^Error: no line from the server within 300 ms/);
    } finally {
      client.destroy();
    }
  });

  test('a POP3 multi-line body and a POP3 one-line answer fail too', RUNNER_TIMEOUT, async () => {
    const client = await LineClient.connect(port, { readTimeoutMs: READ_TIMEOUT_MS });
    try {
      await assert.rejects(client.readMultiline(), /^Error: no multi-line body .* within 300 ms/);
      await assert.rejects(client.ask('STAT'), /^Error: no line from the server within 300 ms/);
    } finally {
      client.destroy();
    }
  });

  test('an SMTP reply, and a close that never comes, fail too', RUNNER_TIMEOUT, async () => {
    const client = await LineClient.connect(port, { readTimeoutMs: READ_TIMEOUT_MS });
    try {
      await assert.rejects(client.askSmtp('NOOP'), /^Error: no SMTP reply from the server within 300 ms/);
      await assert.rejects(
        client.closed(),
        /^Error: no close of the connection from the server within 300 ms/,
      );
    } finally {
      client.destroy();
    }
  });

  test('a per-read timeout overrides the client default', RUNNER_TIMEOUT, async () => {
    const client = await silent();
    try {
      await assert.rejects(client.readLine(100), /^Error: no line from the server within 100 ms/);
    } finally {
      client.destroy();
    }
  });

  test('a line that does come in time is read whole', RUNNER_TIMEOUT, async () => {
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = await silent();
    try {
      const line = client.readLine();
      const [socket] = await accepted;
      socket.write('ting\r\n');
      assert.equal(await line, '* OK half a greeting');
    } finally {
      client.destroy();
    }
  });
});
