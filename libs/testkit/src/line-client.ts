import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface LineClientOptions {
  /** 127.0.0.1 unless given. */
  host?: string;
  /** Implicit TLS (IMAPS, POP3S, SMTPS), trusting `ca` for `servername` (localhost unless given). */
  tls?: { ca: string; servername?: string };
  /**
   * IMAP: a line ending in `{n}` continues after n bytes of literal, and readLine returns the whole
   * response with its literals inline. Off for POP3 and SMTP, where `{n}` is just text.
   */
  literals?: boolean;
  /** Octets sent as soon as the connection is up, before anything is read (a load balancer's PROXY header; over TLS they go inside it). */
  preface?: Buffer;
  /**
   * How long a read waits for the server before it fails with what it got so far (default
   * DEFAULT_READ_TIMEOUT_MS): a reply that never comes fails the test with a clear message instead
   * of hanging it until the runner's own timeout.
   */
  readTimeoutMs?: number;
}

/** The default read timeout: far past any reply a test waits for, well within a test's budget. */
export const DEFAULT_READ_TIMEOUT_MS = 20_000;

/** An IMAP command's outcome: the untagged lines before the tagged completion, and that completion. */
export interface TaggedReply {
  untagged: string[];
  /** The tagged line without its tag ("OK LOGIN completed"). */
  status: string;
  tag: string;
}

/**
 * What a raw test client waits on: bytes arriving or the connection ending, with a bound. Shared by
 * LineClient and the raw clients that cannot use it (a COMPRESS client reading through zlib).
 */
export class Arrivals {
  private waiters: (() => void)[] = [];
  /** Set once the connection closed: nothing more will arrive. */
  ended = false;

  /** Something arrived: every waiting read looks again. */
  wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The connection closed. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /**
   * Waits until `take` finds what it reads; fails once the connection closed without it or after
   * `timeoutMs` without it, saying what it waited for and what was there (`unread`).
   */
  async until<T>(
    waitingFor: string,
    take: () => T | undefined,
    timeoutMs: number,
    unread: () => string,
  ): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.ended)
        throw new Error(`connection closed while waiting for ${waitingFor}; unread: ${unread()}`);
      const remaining = deadline - performance.now();
      if (remaining <= 0)
        throw new Error(`no ${waitingFor} from the server within ${timeoutMs} ms; unread: ${unread()}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
    }
  }
}

/**
 * A bare socket speaking CRLF lines (IMAP, POP3, SMTP), for the exact bytes and protocol edge cases
 * (over-long lines, pipelining, smuggling, literals, dropped connections) that real clients hide.
 * Interoperability is proven with real clients instead (imaplib, poplib, smtplib, curl, swaks...).
 * Written by hand: a test needs to send malformed bytes, which no protocol library will do.
 */
export class LineClient {
  private buffer = Buffer.alloc(0);
  private readonly arrivals = new Arrivals();
  private nextTag = 1;
  /** The server's first reply, read by openSmtp (220, or the 421 of a refused connection). */
  greeting = '';

  private constructor(
    readonly socket: Socket,
    private readonly literals: boolean,
    private readonly readTimeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.arrivals.wake();
    });
    socket.on('close', () => this.arrivals.end());
    socket.on('error', () => {});
  }

  static connect(port: number, options: LineClientOptions = {}): Promise<LineClient> {
    const host = options.host ?? '127.0.0.1';
    const literals = options.literals ?? false;
    const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    const ready = (socket: Socket) => {
      if (options.preface) socket.write(options.preface);
      return new LineClient(socket, literals, readTimeoutMs);
    };
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? connectTls(
            { port, host, ca: options.tls.ca, servername: options.tls.servername ?? 'localhost' },
            () => resolve(ready(socket)),
          )
        : connectTcp({ port, host }, () => resolve(ready(socket)));
      socket.once('error', reject);
    });
  }

  /** SMTP: connects and reads the greeting into `greeting`. */
  static async openSmtp(
    port: number,
    options: Omit<LineClientOptions, 'literals'> = {},
  ): Promise<LineClient> {
    const client = await LineClient.connect(port, options);
    client.greeting = await client.readReply();
    return client;
  }

  /** IMAP: connects, reads the greeting and logs in with LOGIN. */
  static async imapLogin(port: number, user: string, password: string): Promise<LineClient> {
    const client = await LineClient.connect(port, { literals: true });
    await client.readLine();
    const done = await client.command(`LOGIN "${user}" "${password}"`);
    if (!done.status.startsWith('OK')) throw new Error(`login failed: ${done.status}`);
    return client;
  }

  /**
   * After the server agreed to STARTTLS/STLS: the TLS handshake over this connection, and a client
   * reading the secured stream. Bytes not read yet are dropped, as a client must (RFC 9051 6.2.1).
   */
  async startTls(ca: string, servername = 'localhost'): Promise<LineClient> {
    this.socket.removeAllListeners('data');
    const secured = connectTls({ socket: this.socket, ca, servername });
    await new Promise<void>((resolve, reject) => {
      secured.once('secureConnect', resolve);
      secured.once('error', reject);
    });
    const client = new LineClient(secured, this.literals, this.readTimeoutMs);
    client.nextTag = this.nextTag;
    return client;
  }

  private until<T>(
    waitingFor: string,
    take: () => T | undefined,
    timeoutMs = this.readTimeoutMs,
  ): Promise<T> {
    return this.arrivals.until(waitingFor, take, timeoutMs, () =>
      JSON.stringify(this.buffer.toString('latin1').slice(-500)),
    );
  }

  /** Raw bytes, exactly as given. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** `line` and CRLF. */
  writeLine(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends the last bytes and half-closes: the server sees end of input after them. */
  end(data: string | Buffer = ''): void {
    this.socket.end(data);
  }

  /**
   * One line without its CRLF (latin1); with `literals`, an IMAP response with its literals inline.
   * Fails after `timeoutMs` (the client's read timeout unless given) without one.
   */
  readLine(timeoutMs?: number): Promise<string> {
    return this.until(
      'line',
      () => {
        let at = 0;
        for (;;) {
          const end = this.buffer.indexOf('\r\n', at);
          if (end === -1) return undefined;
          const literal = this.literals
            ? /\{(\d+)\}$/.exec(this.buffer.subarray(at, end).toString('latin1'))
            : null;
          if (!literal) {
            const line = this.buffer.subarray(0, end).toString('latin1');
            this.buffer = this.buffer.subarray(end + 2);
            return line;
          }
          const next = end + 2 + Number(literal[1]);
          if (this.buffer.length < next) return undefined;
          at = next;
        }
      },
      timeoutMs,
    );
  }

  /**
   * SMTP: the next complete reply, all its lines ("250-...\r\n250 ..."), or '' once the server has
   * closed the connection. Gives up after `timeoutMs` so a silent server fails the test, not hangs it.
   */
  readReply(timeoutMs?: number): Promise<string> {
    return this.until(
      'SMTP reply',
      () => {
        const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buffer.toString('latin1'));
        if (match) {
          this.buffer = this.buffer.subarray(match[0].length);
          return match[0].trimEnd();
        }
        return this.arrivals.ended ? '' : undefined;
      },
      timeoutMs,
    );
  }

  /** POP3: the raw bytes of a multi-line body after its status line, up to and including "\r\n.\r\n". */
  readMultilineBytes(): Promise<Buffer> {
    return this.until('multi-line body ending in "\\r\\n.\\r\\n"', () => {
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

  /** POP3: a multi-line body's lines, dot-stuffing undone. */
  async readMultiline(): Promise<string[]> {
    const bytes = await this.readMultilineBytes();
    const lines = bytes.toString('latin1').split('\r\n').slice(0, -2);
    return lines.map((line) => (line.startsWith('.') ? line.slice(1) : line));
  }

  /** POP3 (and any one-line reply): sends `line`, resolves with the reply line. */
  async ask(line: string): Promise<string> {
    this.writeLine(line);
    return this.readLine();
  }

  /** SMTP: sends `line`, resolves with the whole reply ('' when the server closed instead). */
  async askSmtp(line: string): Promise<string> {
    this.writeLine(line);
    return this.readReply();
  }

  /** IMAP: sends `<tag> <line>` and collects the untagged lines until the tagged completion. */
  async command(line: string): Promise<TaggedReply> {
    const tag = this.allocateTag();
    this.writeLine(`${tag} ${line}`);
    return this.collect(tag);
  }

  /** IMAP: a command that must succeed; its untagged lines. Anything but OK throws with the reply. */
  async commandOk(line: string): Promise<string[]> {
    const reply = await this.command(line);
    if (!reply.status.startsWith('OK')) throw new Error(`${line.slice(0, 200)}: ${reply.status}`);
    return reply.untagged;
  }

  /** IMAP: the responses up to the completion tagged `tag` (for commands sent by hand). */
  async collect(tag: string): Promise<TaggedReply> {
    const untagged: string[] = [];
    for (;;) {
      const response = await this.readLine();
      if (response.startsWith(`${tag} `)) return { untagged, status: response.slice(tag.length + 1), tag };
      untagged.push(response);
    }
  }

  /** IMAP: the next tag of this client's sequence, for a command written by hand. */
  allocateTag(): string {
    return `a${this.nextTag++}`;
  }

  /** Resolves when the server has closed the connection; fails if it stays open past the read timeout. */
  async closed(): Promise<void> {
    await this.until('close of the connection', () => (this.arrivals.ended ? true : undefined));
  }

  /** True when the server closes the connection within `ms` (a bound so a broken server cannot hang the test). */
  async closedWithin(ms = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const open = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([this.closed().then(() => true as const), open]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
