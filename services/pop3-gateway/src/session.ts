import {
  loginNameTooLong,
  MAX_LOGIN_NAME_BYTES,
  SASL_MECHANISMS,
  startSasl,
  type LoginPolicy,
  type LoginRefusal,
  type SaslExchange,
  type SaslStep,
} from '@correo/auth';
import { BlobNotFoundError } from '@correo/blobs';
import type { AccountRef, Directory } from '@correo/directory';
import {
  MessageEncoder,
  continuationReply,
  errReply,
  multilineReply,
  okReply,
  parseCommand,
} from '@correo/pop3-proto';
import type { InputLine, Pop3Command } from '@correo/pop3-proto';
import type { Logger } from '@correo/telemetry';
import { Maildrop } from './maildrop.js';
import type { HeldMaildropLock, MaildropLocks } from './maildrop-lock.js';
import type { MaildropStore } from './maildrop-store.js';
import { pop3Metrics } from './metrics.js';
import { ReadAhead } from './read-ahead.js';

/** What the connection does after a command: go on, start TLS (then tell the session), or hang up. */
export type SessionAction = 'continue' | 'starttls' | 'close';

/** The connection as the session sees it. write() resolves once the bytes are accepted (backpressure). */
export interface SessionIo {
  write(data: string | Buffer): Promise<void>;
  /** Ends the connection from outside a command (lost maildrop lock). */
  disconnect(reason: string): void;
}

export interface SessionSettings {
  hostname: string;
  /** STLS is offered when the listener has a certificate and the connection is not encrypted yet. */
  tlsAvailable: boolean;
  allowPlaintextAuthOnLoopback: boolean;
  maxAuthFailures: number;
  maxLineLength: number;
}

export interface SessionDeps {
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  loginPolicy: LoginPolicy;
  store: MaildropStore;
  locks: MaildropLocks;
  logger: Logger;
}

export interface ConnectionFacts {
  remoteAddress: string;
  secure: boolean;
}

type State =
  /** `sasl`: an AUTH exchange waiting for the client's next line. */
  | { kind: 'authorization'; user: string | undefined; sasl: SaslExchange | undefined }
  | {
      kind: 'transaction';
      account: AccountRef;
      maildrop: Maildrop;
      lock: HeldMaildropLock;
      readAhead: ReadAhead;
    }
  | { kind: 'closed' };

/** Consecutive unparseable commands tolerated before the connection is dropped. */
const MAX_BAD_COMMANDS = 20;
/** RETR/TOP output is handed to the socket in pieces of about this size; small messages go in one write. */
const WRITE_BATCH_BYTES = 64 * 1024;

const CAPABILITIES_ALWAYS = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];

/**
 * One POP3 session: the AUTHORIZATION / TRANSACTION / UPDATE state machine of RFC 1939 over a
 * MaildropStore. It reads nothing from the socket itself: the connection feeds it whole lines, one at
 * a time, and carries out the action it returns.
 */
export class Pop3Session {
  private state: State = { kind: 'authorization', user: undefined, sasl: undefined };
  private authFailures = 0;
  private badCommands = 0;

  constructor(
    private readonly deps: SessionDeps,
    private readonly settings: SessionSettings,
    private readonly io: SessionIo,
    private readonly connection: ConnectionFacts,
  ) {}

  /** USER/PASS or AUTH succeeded: the session left AUTHORIZATION. */
  get loggedIn(): boolean {
    return this.state.kind === 'transaction';
  }

  greeting(): string {
    return okReply(`${this.settings.hostname} correo POP3 server ready`);
  }

  /** After a completed STLS handshake. */
  tlsStarted(): void {
    this.connection.secure = true;
  }

  async handle(input: InputLine): Promise<SessionAction> {
    const state = this.state;
    if (state.kind === 'closed') return 'close';
    if (input.kind === 'too-long') {
      if (state.kind === 'authorization') state.sasl = undefined;
      return this.refuse(`Line too long: at most ${this.settings.maxLineLength} octets per command`);
    }
    const line = input.line.toString('utf8');
    if (state.kind === 'authorization' && state.sasl) {
      const step = state.sasl.respond(line);
      return this.saslStep(state, step);
    }
    const parsed = parseCommand(line);
    if (!parsed.ok) return this.refuse(parsed.error);
    this.badCommands = 0;
    const started = process.hrtime.bigint();
    try {
      return await (state.kind === 'authorization'
        ? this.authorization(parsed.command, state)
        : this.transaction(parsed.command, state));
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      pop3Metrics.commandSeconds.observe({ command: parsed.command.name }, seconds);
    }
  }

  /** The connection is gone: nothing is deleted (RFC 1939 6: no UPDATE without QUIT), the lock is freed. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = { kind: 'closed' };
    if (state.kind === 'transaction') {
      state.readAhead.discard();
      await state.lock.release().catch(() => {});
    }
  }

  /** Read through a method: the connection may close the session while a login awaits a backend. */
  private isClosed(): boolean {
    return this.state.kind === 'closed';
  }

  private async reply(text: string): Promise<SessionAction> {
    await this.io.write(text);
    return 'continue';
  }

  private async refuse(error: string): Promise<SessionAction> {
    if (++this.badCommands >= MAX_BAD_COMMANDS) {
      await this.io.write(errReply('Too many bad commands, closing'));
      return 'close';
    }
    return this.reply(errReply(error));
  }

  private plaintextAuthAllowed(): boolean {
    return this.deps.loginPolicy.credentialsAllowed(
      this.connection,
      this.settings.allowPlaintextAuthOnLoopback,
    );
  }

  private capabilities(): string[] {
    const lines = [...CAPABILITIES_ALWAYS];
    if (this.state.kind === 'authorization') {
      if (this.plaintextAuthAllowed()) lines.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
      if (this.settings.tlsAvailable && !this.connection.secure) lines.push('STLS');
    }
    lines.push('IMPLEMENTATION correo');
    return lines;
  }

  private async authorization(
    command: Pop3Command,
    state: Extract<State, { kind: 'authorization' }>,
  ): Promise<SessionAction> {
    switch (command.name) {
      case 'CAPA':
        return this.reply(multilineReply('Capability list follows', this.capabilities()));
      case 'QUIT':
        this.state = { kind: 'closed' };
        await this.io.write(okReply('Bye'));
        return 'close';
      case 'STLS':
        if (this.connection.secure) return this.reply(errReply('TLS is already active'));
        if (!this.settings.tlsAvailable) return this.reply(errReply('STLS is not available'));
        state.user = undefined;
        // The connection answers +OK itself, after it has stopped reading plaintext.
        return 'starttls';
      case 'USER':
        if (!this.plaintextAuthAllowed()) return this.refuseLogin('no TLS', plaintextRefusal());
        if (loginNameTooLong(command.user))
          return this.refuseLogin('login name too long', loginNameRefusal());
        state.user = command.user;
        return this.reply(okReply('Send PASS'));
      case 'PASS': {
        if (!this.plaintextAuthAllowed()) return this.refuseLogin('no TLS', plaintextRefusal());
        const user = state.user;
        if (user === undefined) return this.reply(errReply('Send USER first'));
        state.user = undefined;
        return this.login(user, command.password);
      }
      case 'AUTH': {
        if (command.mechanism === undefined) {
          return this.reply(
            multilineReply('Mechanisms follow', this.plaintextAuthAllowed() ? [...SASL_MECHANISMS] : []),
          );
        }
        const started = startSasl(command.mechanism, command.initialResponse);
        if (!started) {
          return this.refuseLogin(
            'unsupported mechanism',
            errReply(`Unsupported mechanism ${command.mechanism}`),
          );
        }
        if (!this.plaintextAuthAllowed()) return this.refuseLogin('no TLS', plaintextRefusal());
        state.sasl = started.exchange;
        return this.saslStep(state, started.step);
      }
      default:
        return this.reply(errReply(`${command.name} is not valid before login`));
    }
  }

  /** Carries an AUTH exchange on (RFC 5034): a challenge, or its end. */
  private async saslStep(
    state: Extract<State, { kind: 'authorization' }>,
    step: SaslStep,
  ): Promise<SessionAction> {
    if (step.kind === 'challenge') return this.reply(continuationReply(step.challenge.toString('base64')));
    state.sasl = undefined;
    if (step.kind === 'cancelled') return this.reply(errReply('AUTH cancelled'));
    if (step.kind === 'malformed') return this.refuseLogin('malformed SASL', errReply(step.reason));
    const { login, password, authorizationId } = step.credentials;
    return this.login(login, password, authorizationId);
  }

  /** A login refused before its credentials were looked at: counted as refused, answered at once. */
  private async refuseLogin(reason: LoginRefusal, reply: string): Promise<SessionAction> {
    this.deps.loginPolicy.refused('pop3', this.connection.remoteAddress, reason);
    return this.reply(reply);
  }

  private async login(login: string, password: string, authorizationId = ''): Promise<SessionAction> {
    if (loginNameTooLong(login)) return this.refuseLogin('login name too long', loginNameRefusal());
    const ip = this.connection.remoteAddress;
    const { loginPolicy, directory, locks, store, logger } = this.deps;
    let account: AccountRef;
    try {
      const attempt = { protocol: 'pop3' as const, login, password, authorizationId, ip };
      const outcome = await loginPolicy.attempt(directory, attempt);
      // Locked out or wrong: the policy has waited alike for both; one answer.
      if (outcome.kind === 'rejected') return this.authFailed();
      if (outcome.kind === 'unauthorized') {
        return this.reply(errReply('Logging in as another identity is not allowed', 'AUTH'));
      }
      account = outcome.account;
    } catch {
      // The policy counted and logged the backend error.
      return this.reply(errReply('Temporary failure, try again later', 'SYS/TEMP'));
    }
    if (this.isClosed()) return 'close';

    let lock: HeldMaildropLock | null;
    try {
      lock = await locks.acquire(account.accountId, () => this.io.disconnect('maildrop lock lost'));
    } catch (error) {
      logger.error({ error: (error as Error).message }, 'POP3 maildrop lock failed');
      return this.reply(errReply('Temporary failure, try again later', 'SYS/TEMP'));
    }
    if (!lock) {
      logger.info({ ip, accountId: account.accountId }, 'POP3 login refused: maildrop in use');
      return this.reply(errReply('Maildrop is in use by another POP3 session', 'IN-USE'));
    }
    if (this.isClosed()) {
      await lock.release();
      return 'close';
    }
    let maildrop: Maildrop;
    try {
      maildrop = new Maildrop(await store.open(account.accountId));
    } catch (error) {
      await lock.release().catch(() => {});
      logger.error({ error: (error as Error).message }, 'POP3 maildrop could not be read');
      return this.reply(errReply('Maildrop not available, try again later', 'SYS/TEMP'));
    }
    if (this.isClosed()) {
      await lock.release();
      return 'close';
    }
    const readAhead = new ReadAhead((blobKey) => store.read(blobKey));
    this.state = { kind: 'transaction', account, maildrop, lock, readAhead };
    const { count, octets } = maildrop.stat();
    return this.reply(okReply(`Logged in, ${count} messages (${octets} octets)`));
  }

  private async authFailed(): Promise<SessionAction> {
    if (++this.authFailures >= this.settings.maxAuthFailures) {
      this.state = { kind: 'closed' };
      await this.io.write(errReply('Authentication failed, closing', 'AUTH'));
      return 'close';
    }
    return this.reply(errReply('Authentication failed', 'AUTH'));
  }

  private async transaction(
    command: Pop3Command,
    state: Extract<State, { kind: 'transaction' }>,
  ): Promise<SessionAction> {
    const { maildrop } = state;
    switch (command.name) {
      case 'CAPA':
        return this.reply(multilineReply('Capability list follows', this.capabilities()));
      case 'STAT': {
        const { count, octets } = maildrop.stat();
        return this.reply(okReply(`${count} ${octets}`));
      }
      case 'LIST': {
        if (command.message !== undefined) {
          const found = maildrop.lookup(command.message);
          if (!found.ok) return this.reply(errReply(found.error));
          return this.reply(okReply(`${command.message} ${found.entry.octets}`));
        }
        const lines = [...maildrop.live()].map(([number, entry]) => `${number} ${entry.octets}`);
        const { count, octets } = maildrop.stat();
        return this.reply(multilineReply(`${count} messages (${octets} octets)`, lines));
      }
      case 'UIDL': {
        if (command.message !== undefined) {
          const found = maildrop.lookup(command.message);
          if (!found.ok) return this.reply(errReply(found.error));
          return this.reply(okReply(`${command.message} ${maildrop.uniqueId(found.entry)}`));
        }
        const lines = [...maildrop.live()].map(([number, entry]) => `${number} ${maildrop.uniqueId(entry)}`);
        return this.reply(multilineReply('Unique-id listing follows', lines));
      }
      case 'RETR':
        return this.send(state, command.message, undefined);
      case 'TOP':
        return this.send(state, command.message, command.lines);
      case 'DELE': {
        const found = maildrop.markDeleted(command.message);
        if (!found.ok) return this.reply(errReply(found.error));
        return this.reply(okReply(`Message ${command.message} deleted`));
      }
      case 'RSET': {
        maildrop.unmarkAll();
        const { count, octets } = maildrop.stat();
        return this.reply(okReply(`Maildrop has ${count} messages (${octets} octets)`));
      }
      case 'NOOP':
        return this.reply(okReply());
      case 'QUIT':
        return this.update(state);
      default:
        return this.reply(errReply(`${command.name} is not valid after login`));
    }
  }

  /** RETR (bodyLines undefined) or TOP: streams the blob, normalised and dot-stuffed. */
  private async send(
    state: Extract<State, { kind: 'transaction' }>,
    number: number,
    bodyLines: number | undefined,
  ): Promise<SessionAction> {
    const { maildrop, readAhead } = state;
    const found = maildrop.lookup(number);
    if (!found.ok) return this.reply(errReply(found.error));
    const { entry } = found;
    let body;
    try {
      body = await readAhead.take(entry.blobKey);
    } catch (error) {
      if (error instanceof BlobNotFoundError) {
        this.deps.logger.error({ blobKey: entry.blobKey }, 'RETR of a message whose body is missing');
        return this.reply(errReply(`Message ${number} cannot be read`, 'SYS/PERM'));
      }
      this.deps.logger.error({ error: (error as Error).message }, 'blob store read failed');
      return this.reply(errReply('Temporary failure, try again later', 'SYS/TEMP'));
    }
    const next = bodyLines === undefined ? maildrop.nextLive(number) : undefined;
    if (next) readAhead.prepare(next.blobKey);
    const encoder = new MessageEncoder(bodyLines === undefined ? {} : { bodyLines });
    const status = bodyLines === undefined ? `${entry.octets} octets` : 'Top of message follows';
    let pending: Buffer[] = [Buffer.from(okReply(status))];
    let pendingBytes = pending[0]!.length;
    try {
      // Once +OK is out there is no way to report a failure in-band: an error here ends the connection.
      for await (const chunk of body as AsyncIterable<Buffer>) {
        const out = encoder.push(chunk);
        pending.push(out);
        pendingBytes += out.length;
        if (pendingBytes >= WRITE_BATCH_BYTES) {
          await this.io.write(Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        }
        if (encoder.done) break;
      }
    } finally {
      body.destroy();
    }
    pending.push(encoder.end());
    await this.io.write(Buffer.concat(pending));
    pop3Metrics.retrievedBytes.inc(encoder.octets);
    if (bodyLines === undefined) {
      pop3Metrics.messagesRetrieved.inc();
      if (encoder.octets !== entry.octets) {
        this.deps.logger.error(
          { blobKey: entry.blobKey, listed: entry.octets, sent: encoder.octets },
          'RETR sent a different size than LIST reported',
        );
      }
    }
    return 'continue';
  }

  /** RFC 1939 6: QUIT in TRANSACTION enters UPDATE; the marked messages go in one transaction. */
  private async update(state: Extract<State, { kind: 'transaction' }>): Promise<SessionAction> {
    this.state = { kind: 'closed' };
    const { maildrop, lock, account, readAhead } = state;
    readAhead.discard();
    const uids = maildrop.deletedUids();
    let reply: string;
    try {
      if (uids.length === 0) {
        reply = okReply('Bye');
      } else if (!(await lock.confirm())) {
        reply = errReply('Maildrop lock was lost; no messages deleted', 'SYS/TEMP');
      } else {
        const result = await this.deps.store.expunge(account.accountId, maildrop.mailboxId, uids);
        pop3Metrics.messagesDeleted.inc(result.expunged.length);
        reply = okReply(`Bye, ${result.expunged.length} messages deleted`);
      }
    } catch (error) {
      this.deps.logger.error({ error: (error as Error).message }, 'POP3 UPDATE failed');
      reply = errReply('Deleted messages were not removed, try again later', 'SYS/TEMP');
    } finally {
      await lock.release().catch(() => {});
    }
    await this.io.write(reply);
    return 'close';
  }
}

function plaintextRefusal(): string {
  return errReply('Plaintext authentication is not allowed without TLS: use STLS first', 'AUTH');
}

function loginNameRefusal(): string {
  return errReply(`Login names are limited to ${MAX_LOGIN_NAME_BYTES} octets`, 'AUTH');
}
