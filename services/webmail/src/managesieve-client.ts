import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  capabilitiesOf,
  encodeCommand,
  ResponseCollector,
  scriptListOf,
  WireReader,
  type ManageSieveResponse,
} from '@correo/managesieve-proto';
import { proxyHeaderFor, tlsOptions, type BrowserAddress, type Gateways } from './gateways.js';
import { WebmailError } from './webmail-error.js';

/** A script is at most 1 MiB (the store's limit); a little more for the literal's framing. */
const READER_LIMITS = { maxLineBytes: 64 * 1024, maxLiteralBytes: 2 * 1024 * 1024 };
/** A server that stops answering must not hold a request: one command, one deadline. */
const COMMAND_TIMEOUT_MS = 30_000;

/** A NO from the server: its response code (upper case) and its text, as the user should read it. */
export class ManageSieveRefusal extends Error {
  constructor(
    readonly code: string | undefined,
    readonly text: string,
  ) {
    super(text);
    this.name = 'ManageSieveRefusal';
  }
}

/**
 * One ManageSieve (RFC 5804) connection for the signed-in user, the way any Sieve client manages its
 * scripts: STARTTLS, AUTHENTICATE PLAIN with the user's own password (the server's login policy
 * decides), then commands. The webmail never reads scripts from the database. Opened per request
 * and logged out after it: rules are edited rarely, and no connection is held per session.
 * The protocol syntax (command encoding, response reading) is libs/managesieve-proto's.
 */
export class ManageSieveClient {
  #socket: Socket | TLSSocket;
  #reader = new WireReader(READER_LIMITS, 'responses');
  #collector = new ResponseCollector();
  #responses: ManageSieveResponse[] = [];
  #waiter: { resolve: (r: ManageSieveResponse) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  /** Connects, secures and logs in; throws WebmailError (503 unreachable, 401 refused). */
  static async open(
    gateways: Gateways,
    address: string,
    password: string,
    browser?: BrowserAddress,
  ): Promise<ManageSieveClient> {
    const endpoint = gateways.managesieve;
    if (!endpoint) {
      throw new WebmailError(404, 'no_managesieve', 'Rules and vacation are not available on this server.');
    }
    let client: ManageSieveClient | undefined;
    try {
      const socket = connect({
        host: endpoint.host,
        port: endpoint.port,
        ...(gateways.sourceAddress ? { localAddress: gateways.sourceAddress } : {}),
      });
      const header = proxyHeaderFor(gateways, browser, endpoint.port);
      if (header) socket.write(header);
      client = new ManageSieveClient(socket);
      const greeting = await client.#next();
      if (greeting.status !== 'OK') throw new Error(`greeting: ${greeting.text ?? greeting.status}`);
      if (!capabilitiesOf(greeting).has('STARTTLS')) throw new Error('the server offers no STARTTLS');
      await client.#expectOk(await client.command('STARTTLS'));
      await client.#startTls(gateways);
      // RFC 5804 2.2: after the handshake the server states its capabilities again.
      const capabilities = await client.#next();
      if (capabilities.status !== 'OK') throw new Error('no capabilities after STARTTLS');
    } catch (error) {
      client?.close();
      throw unreachable(error);
    }
    const login = Buffer.from(`\0${address}\0${password}`, 'utf8').toString('base64');
    const answer = await client.command('AUTHENTICATE', 'PLAIN', login).catch((error: unknown) => {
      client.close();
      throw unreachable(error);
    });
    if (answer.status !== 'OK') {
      client.close();
      // Too many sessions of this user or browser at once (RFC 5804 TRYLATER): not a wrong password.
      if (answer.code?.name === 'TRYLATER') {
        throw new WebmailError(
          503,
          'rules_busy',
          'The rules server is busy right now. Try again in a moment.',
        );
      }
      throw new WebmailError(
        401,
        'signed_out',
        'The rules server did not accept your sign-in. Sign out and in again.',
      );
    }
    return client;
  }

  /** Sends one command and waits for its whole response (data lines and status). */
  async command(name: string, ...args: (string | number)[]): Promise<ManageSieveResponse> {
    this.#socket.write(encodeCommand(name, ...args));
    return this.#next();
  }

  async listScripts(): Promise<{ name: string; active: boolean }[]> {
    return scriptListOf(await this.#expectOk(await this.command('LISTSCRIPTS')));
  }

  async getScript(name: string): Promise<string> {
    const response = await this.#expectOk(await this.command('GETSCRIPT', name));
    const item = response.data[0]?.[0];
    return item?.kind === 'string' ? item.value : '';
  }

  /** Stores (the server validates: a NO carries the parser's line and column) and activates. */
  async putActive(name: string, content: string): Promise<void> {
    await this.#expectOk(await this.command('PUTSCRIPT', name, content));
    await this.#expectOk(await this.command('SETACTIVE', name));
  }

  /** The active script's name and content; none: null. */
  async activeScript(): Promise<{ name: string; content: string } | null> {
    const active = (await this.listScripts()).find((s) => s.active);
    return active ? { name: active.name, content: await this.getScript(active.name) } : null;
  }

  /** LOGOUT, then the socket closes; never throws. */
  async logout(): Promise<void> {
    await this.command('LOGOUT').catch(() => {});
    this.close();
  }

  close(): void {
    this.#socket.destroy();
  }

  async #expectOk(response: ManageSieveResponse): Promise<ManageSieveResponse> {
    if (response.status === 'OK') return response;
    throw new ManageSieveRefusal(
      response.code?.name,
      response.text ?? `the server answered ${response.status}`,
    );
  }

  #listen(socket: Socket | TLSSocket): void {
    socket.setTimeout(COMMAND_TIMEOUT_MS);
    socket.on('timeout', () => this.#fail(new Error('the rules server stopped answering')));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the rules server closed the connection')));
    socket.on('data', (chunk: Buffer) => {
      this.#reader.push(chunk);
      try {
        for (let line = this.#reader.next(); line; line = this.#reader.next()) {
          const response = this.#collector.push(line);
          if (response) this.#deliver(response);
        }
      } catch (error) {
        this.#fail(error as Error);
        socket.destroy();
      }
    });
  }

  #deliver(response: ManageSieveResponse): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve(response);
    } else this.#responses.push(response);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }

  #next(): Promise<ManageSieveResponse> {
    const ready = this.#responses.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  async #startTls(gateways: Gateways): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('timeout');
    plain.setTimeout(0);
    // Nothing the server sent before the handshake may count as an answer after it.
    this.#reader.discard();
    this.#responses = [];
    const secure = tlsConnect({ socket: plain, ...tlsOptions(gateways) });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure);
  }
}

function unreachable(error: unknown): WebmailError {
  if (error instanceof WebmailError) return error;
  return new WebmailError(
    503,
    'rules_unavailable',
    `The rules server cannot be reached right now (${(error as Error).message}). Try again in a moment.`,
  );
}
