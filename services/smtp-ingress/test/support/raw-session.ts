import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/**
 * A byte-exact SMTP conversation for the cases no well-behaved client can produce (bare LF, smuggling,
 * over-long lines). Every test that can use swaks, curl or smtplib uses those instead.
 */
export class RawSession {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private closed = false;
  /** The server's first reply: 220, or the 421 of a refused connection. */
  greeting = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** `preface`: octets sent before the greeting (a load balancer's PROXY header). */
  static async open(port: number, preface?: Buffer): Promise<RawSession> {
    const socket = connect({ host: '127.0.0.1', port });
    if (preface) socket.write(preface);
    return RawSession.start(socket, 'connect');
  }

  /** Over implicit TLS (465), trusting `ca` (the listener's certificate) for `servername`. */
  static async openTls(port: number, ca: string, servername: string): Promise<RawSession> {
    return RawSession.start(connectTls({ host: '127.0.0.1', port, ca, servername }), 'secureConnect');
  }

  private static async start(socket: Socket, ready: 'connect' | 'secureConnect'): Promise<RawSession> {
    await new Promise<void>((resolve, reject) => {
      socket.once(ready, resolve);
      socket.once('error', reject);
    });
    const session = new RawSession(socket);
    session.greeting = await session.reply();
    return session;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete reply (all its lines), or '' once the server has closed the connection. */
  async reply(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (this.closed) return '';
      if (Date.now() > deadline)
        throw new Error(`no SMTP reply within ${timeoutMs} ms; got ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** True when the server closed the connection (within the timeout). */
  async closedByServer(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.closed;
  }

  /** Sends the last bytes and half-closes: the server sees end of input after them. */
  end(data: string | Buffer): void {
    this.socket.end(data);
  }

  close(): void {
    this.socket.destroy();
  }
}
