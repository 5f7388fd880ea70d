import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '@correo/blobs';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import type { AccountRef } from '@correo/directory';
import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import { createMemoryNotifier, MemoryBus } from '@correo/notify';
import { migrate, readMigrationFiles } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { startInProcessPostgres } from '@correo/testkit';
import { gatewayServices } from '../../src/command-context.js';
import type { Completion, GatewayBackends, GatewayServices, SessionIo } from '../../src/command-context.js';
import { defaultImapGatewayConfig } from '../../src/index.js';
import type { ImapGatewayConfig } from '../../src/index.js';
import { ImapSession } from '../../src/session.js';

/** What one command wrote: the untagged lines, the tagged completion (without the tag) and the raw text. */
export interface CommandResult {
  untagged: string[];
  status: string;
  /** Everything written, literals included. */
  text: string;
  then: Completion['then'];
}

/**
 * What IMAP sessions of one gateway process run on, with no socket and no shared backend: PostgreSQL
 * in this process (PGlite through the pg driver, migrated), blobs in a temp directory, notify and
 * limits in process. The adapters are the embedded default's; only the database server is swapped.
 */
export class InProcessGateway {
  readonly password = 'correct horse battery staple';
  private readonly domain: Promise<unknown>;

  readonly services: GatewayServices;

  private constructor(
    private readonly backends: GatewayBackends,
    private readonly release: () => Promise<void>,
  ) {
    this.services = gatewayServices(backends);
    const operator = createProvisioning(backends.pool);
    this.domain = operator
      .createTenant({ name: 'in-process' })
      .then((tenant) =>
        operator.createDomain({ name: 'in-process.test', tenantId: tenant.id, verified: true }),
      );
  }

  static async open(config: Partial<ImapGatewayConfig> = {}): Promise<InProcessGateway> {
    // Migrated once per set of migrations, then loaded from the kept data directory.
    const migrations = await readMigrationFiles();
    const postgres = await startInProcessPostgres({
      key: `correo-migrations:${migrations.map((m) => `${m.version}:${m.checksum}`).join(',')}`,
      prepare: (connection) => migrate(connection),
    });
    const blobDir = await mkdtemp(join(tmpdir(), 'imap-in-process-'));
    const blobs = createFsBlobStore({ dir: blobDir });
    const limits = createMemoryLimits({ state: new MemoryLimitsState() });
    const notifier = createMemoryNotifier({ bus: new MemoryBus() });
    const backends = {
      config: defaultImapGatewayConfig({ hostname: 'imap.test', ...config }),
      pool: postgres.pool,
      blobs,
      directory: createPostgresDirectory(postgres.pool),
      limits,
      notifier,
      logger: createLogger('imap-test', 'silent'),
    };
    return new InProcessGateway(backends, async () => {
      await Promise.allSettled([notifier.close(), limits.close(), blobs.close()]);
      await postgres.close();
      await rm(blobDir, { recursive: true, force: true });
    });
  }

  /**
   * A provisioned account (INBOX, Sent, Drafts, Trash, Junk, Archive). With `password` it can LOGIN
   * (with `this.password`); without, tests reach it through SessionDriver.authenticate and skip the
   * argon2 hashing, most of these tests' time.
   */
  async account(localPart: string, options: { password?: boolean } = {}): Promise<AccountRef> {
    await this.domain;
    const address = `${localPart}@in-process.test`;
    const account = await createProvisioning(this.services.pool).createAccount({
      address,
      ...(options.password ? { password: this.password } : {}),
    });
    return { accountId: account.id, tenantId: account.tenantId, address: account.address };
  }

  /**
   * Resolves (when the returned function is awaited) once the account's change feed delivered a change
   * of `kind`: every session subscribed before has been told as well, since listeners run in order.
   * Call it before the change is made.
   */
  async changeSeen(account: AccountRef, kind: string): Promise<() => Promise<void>> {
    let seen!: () => void;
    const done = new Promise<void>((resolve) => (seen = resolve));
    const unsubscribe = await this.services.changes.subscribe(account.accountId, (change) => {
      if (change?.kind === kind) seen();
    });
    return () => done.then(unsubscribe);
  }

  private readonly sessions: SessionDriver[] = [];

  /** A session logged in as `account` (without the password), ended by close(). */
  async session(account: AccountRef): Promise<SessionDriver> {
    const driver = new SessionDriver(this.services);
    this.sessions.push(driver);
    await driver.authenticate(account);
    return driver;
  }

  async close(): Promise<void> {
    for (const driver of this.sessions) await driver.end();
    await this.release();
  }
}

/**
 * One IMAP session with no socket: commands go to ImapSession.handle framed as the connection frames
 * them, lines a command reads (IDLE's DONE) come from sendLine(), and what the session writes is kept.
 * The session, its commands and the store are the production ones; only the socket is left out.
 */
export class SessionDriver implements SessionIo {
  readonly session: ImapSession;
  private output = '';
  private readonly outputWaiters = new Set<() => void>();
  private readonly lines: Buffer[] = [];
  private lineWaiter: ((line: Buffer) => void) | null = null;
  private tags = 0;
  closed = false;

  /** The accounts the session asked the connection layer to admit, in order. */
  readonly admissions: string[] = [];

  /** `admit` stands for the connection layer's per-user caps (libs/line-server tests them). */
  constructor(
    services: GatewayServices,
    remoteAddress = '127.0.0.1',
    private readonly admit: (accountId: string) => boolean = () => true,
  ) {
    this.session = new ImapSession(services, this, remoteAddress, false);
  }

  // SessionIo, as the connection provides it.
  write(...data: Buffer[]): Promise<void> {
    this.output += Buffer.concat(data).toString('utf8');
    for (const wake of [...this.outputWaiters]) wake();
    return Promise.resolve();
  }

  readLine(): Promise<Buffer> {
    const line = this.lines.shift();
    if (line) return Promise.resolve(line);
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
    });
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('no TLS without a socket'));
  }

  setIdling(): void {}

  admitUser(accountId: string): Promise<boolean> {
    this.admissions.push(accountId);
    return Promise.resolve(this.admit(accountId));
  }

  close(): void {
    this.closed = true;
  }

  /** A raw client line for a command that reads one (IDLE's DONE, an AUTHENTICATE response). */
  sendLine(text: string): void {
    const line = Buffer.from(text, 'utf8');
    const waiter = this.lineWaiter;
    this.lineWaiter = null;
    if (waiter) waiter(line);
    else this.lines.push(line);
  }

  /** Everything the session wrote so far (the greeting is not written unless asked for). */
  get written(): string {
    return this.output;
  }

  /** Resolves with the output written from `from` on once it matches `pattern` (an event, not a timer). */
  waitFor(pattern: RegExp, from = 0): Promise<string> {
    return new Promise((resolve) => {
      const check = () => {
        const text = this.output.slice(from);
        if (!pattern.test(text)) return;
        this.outputWaiters.delete(check);
        resolve(text);
      };
      this.outputWaiters.add(check);
      check();
    });
  }

  /**
   * Runs a command that must succeed (OK); its untagged lines, and the tag it was sent with (for
   * responses that name it, such as ESEARCH).
   */
  async ok(line: string): Promise<{ untagged: string[]; tag: string }> {
    const tag = `t${this.tags + 1}`;
    const done = await this.command(line);
    assert.match(done.status, /^OK/, `${line}: ${done.status}`);
    return { untagged: done.untagged, tag };
  }

  /** Runs one command line (no literals) to its tagged completion. */
  async command(line: string): Promise<CommandResult> {
    return this.start(line).done;
  }

  /** Starts a command; `done` resolves at its tagged completion, `from` is where its output begins. */
  start(line: string): { from: number; done: Promise<CommandResult> } {
    const tag = `t${++this.tags}`;
    const from = this.output.length;
    const done = this.session.handle(Buffer.from(`${tag} ${line}`, 'utf8')).then((then) => {
      const text = this.output.slice(from);
      const lines = text.split('\r\n').filter((l) => l !== '');
      const last = lines.pop() ?? '';
      if (!last.startsWith(`${tag} `)) throw new Error(`no tagged completion for ${tag}: ${text}`);
      return { untagged: lines, status: last.slice(tag.length + 1), text, then };
    });
    return { from, done };
  }

  /** APPEND of one message as a client sends it (a synchronizing literal, inline); its UID. */
  async append(mailbox: string, raw: string, flags = ''): Promise<number> {
    const octets = Buffer.byteLength(raw);
    const result = await this.command(
      `APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${octets}+}\r\n${raw}`,
    );
    const uid = /^OK \[APPENDUID \d+ (\d+)\]/.exec(result.status)?.[1];
    if (!uid) throw new Error(`APPEND failed: ${result.status}`);
    return Number(uid);
  }

  /** What LOGIN does once the directory has accepted the credentials. */
  async authenticate(account: AccountRef): Promise<void> {
    const refused = await this.session.loggedIn(account);
    if (refused) throw new Error(`login refused: ${refused.text}`);
  }

  /** LOGIN through the directory (plaintext is allowed on loopback by the default config). */
  async login(address: string, password: string): Promise<void> {
    const result = await this.command(`LOGIN ${address} "${password}"`);
    if (!result.status.startsWith('OK')) throw new Error(`LOGIN failed: ${result.status}`);
  }

  /** The connection went away. */
  async end(): Promise<void> {
    await this.session.close();
  }
}
