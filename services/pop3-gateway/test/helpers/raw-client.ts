import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/**
 * A bare line-oriented socket for the protocol's edge cases (over-long lines, pipelining, dropped
 * connections, exact bytes) that real clients cannot be made to produce. Interoperability is proven
 * with poplib, curl and fetchmail instead.
 */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, options: { tls?: { ca: string } } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? connectTls({ port, host: '127.0.0.1', ca: options.tls.ca, servername: 'localhost' }, () =>
            resolve(new RawClient(socket)),
          )
        : connectTcp({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async until<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString())}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** One line without CRLF. */
  readLine(): Promise<string> {
    return this.until(() => {
      const end = this.buffer.indexOf('\r\n');
      if (end === -1) return undefined;
      const line = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 2);
      return line;
    });
  }

  /** The raw bytes of a multi-line body after its status line, up to and including "\r\n.\r\n". */
  readMultilineBytes(): Promise<Buffer> {
    return this.until(() => {
      if (this.buffer.subarray(0, 3).toString() === '.\r\n') {
        this.buffer = this.buffer.subarray(3);
        return Buffer.from('.\r\n');
      }
      const end = this.buffer.indexOf('\r\n.\r\n');
      if (end === -1) return undefined;
      const body = this.buffer.subarray(0, end + 5);
      this.buffer = this.buffer.subarray(end + 5);
      return Buffer.from(body);
    });
  }

  async readMultiline(): Promise<string[]> {
    const bytes = await this.readMultilineBytes();
    const lines = bytes.toString('latin1').split('\r\n').slice(0, -2);
    return lines.map((line) => (line.startsWith('.') ? line.slice(1) : line));
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async command(line: string): Promise<string> {
    this.send(line);
    return this.readLine();
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    await this.until(() => (this.ended ? true : undefined));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
