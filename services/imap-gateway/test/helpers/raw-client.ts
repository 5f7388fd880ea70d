import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/**
 * A bare IMAP socket for exact bytes and protocol edge cases (pipelining, literals, ordering of
 * untagged responses) that real clients hide. Interoperability is proven with imaplib, curl,
 * imapflow, mbsync and mutt instead.
 */
export class RawImapClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  private nextTag = 1;

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

  static connect(port: number, options: { tls?: { ca: string } } = {}): Promise<RawImapClient> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? connectTls({ port, host: '127.0.0.1', ca: options.tls.ca, servername: 'localhost' }, () =>
            resolve(new RawImapClient(socket)),
          )
        : connectTcp({ port, host: '127.0.0.1' }, () => resolve(new RawImapClient(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * After a tagged OK to STARTTLS: the TLS handshake over this connection, and a client reading the
   * secured stream. Bytes this client had not read yet are dropped, as a client must (RFC 9051 6.2.1).
   */
  async startTls(ca: string): Promise<RawImapClient> {
    this.socket.removeAllListeners('data');
    const secured = connectTls({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secured.once('secureConnect', resolve);
      secured.once('error', reject);
    });
    const client = new RawImapClient(secured);
    client.nextTag = this.nextTag;
    return client;
  }

  /** Connects, reads the greeting and logs in. */
  static async login(port: number, user: string, password: string): Promise<RawImapClient> {
    const client = await RawImapClient.connect(port);
    await client.readLine();
    const done = await client.command(`LOGIN "${user}" "${password}"`);
    if (!done.status.startsWith('OK')) throw new Error(`login failed: ${done.status}`);
    return client;
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

  /** One response line with its literals inline (as latin1 text), without the final CRLF. */
  readLine(): Promise<string> {
    return this.until(() => {
      let at = 0;
      for (;;) {
        const end = this.buffer.indexOf('\r\n', at);
        if (end === -1) return undefined;
        const literal = /\{(\d+)\}$/.exec(this.buffer.subarray(at, end).toString('latin1'));
        if (!literal) {
          const line = this.buffer.subarray(0, end).toString('latin1');
          this.buffer = this.buffer.subarray(end + 2);
          return line;
        }
        const next = end + 2 + Number(literal[1]);
        if (this.buffer.length < next) return undefined;
        at = next;
      }
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Sends `<tag> <line>` and collects the untagged lines until the tagged completion. */
  async command(line: string): Promise<{ untagged: string[]; status: string; tag: string }> {
    const tag = `a${this.nextTag++}`;
    this.send(`${tag} ${line}\r\n`);
    return this.collect(tag);
  }

  async collect(tag: string): Promise<{ untagged: string[]; status: string; tag: string }> {
    const untagged: string[] = [];
    for (;;) {
      const response = await this.readLine();
      if (response.startsWith(`${tag} `)) return { untagged, status: response.slice(tag.length + 1), tag };
      untagged.push(response);
    }
  }

  allocateTag(): string {
    return `a${this.nextTag++}`;
  }

  async closed(): Promise<void> {
    await this.until(() => (this.ended ? true : undefined));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
