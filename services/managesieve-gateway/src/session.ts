import {
  loginNameTooLong,
  SASL_MECHANISMS,
  startSasl,
  type LoginPolicy,
  type LoginRefusal,
  type SaslExchange,
  type SaslStep,
} from '@correo/auth';
import type { AccountRef, Directory } from '@correo/directory';
import {
  byeResponse,
  capabilityLines,
  dataLine,
  decodeUtf8,
  noResponse,
  okResponse,
  parseCommand,
  scriptContent,
  scriptListLines,
  type CommandName,
  type ManageSieveCommand,
  type ResponseCode,
  type WireLine,
} from '@correo/managesieve-proto';
import type { Logger } from '@correo/telemetry';
import { checkSieveScript, SIEVE_CAPABILITY } from './check-script.js';
import { manageSieveMetrics } from './metrics.js';
import type { ScriptStore } from './script-store.js';

/** What the connection does after a line: read on, start TLS (the OK is already written), or hang up. */
export type SessionAction = 'continue' | 'starttls' | 'close';

/** The connection as the session sees it (a socket in the gateway, an array in unit tests). */
export interface SessionIo {
  /** Resolves once the octets are accepted (backpressure). */
  write(data: Buffer): Promise<void>;
  /** Takes the per-user slots across pods after a login; false when they are full. */
  admitUser(accountId: string): Promise<boolean>;
}

export interface SessionSettings {
  hostname: string;
  /** STARTTLS is offered: the listener has a certificate and the connection is not encrypted yet. */
  tlsAvailable: boolean;
  allowPlaintextAuthOnLoopback: boolean;
  maxAuthFailures: number;
  maxScriptBytes: number;
  maxScripts: number;
  /** What the mda's Sieve runs allow (MAXREDIRECTS). */
  maxRedirects: number;
}

export interface SessionDeps {
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  loginPolicy: LoginPolicy;
  store: ScriptStore;
  logger: Logger;
}

export interface ConnectionFacts {
  remoteAddress: string;
  secure: boolean;
}

type State =
  /** `sasl`: an AUTHENTICATE exchange waiting for the client's next string. */
  | { kind: 'unauthenticated'; sasl: SaslExchange | undefined }
  | { kind: 'authenticated'; account: AccountRef }
  | { kind: 'closed' };

type Unauthenticated = Extract<State, { kind: 'unauthenticated' }>;
type Authenticated = Extract<State, { kind: 'authenticated' }>;

/** Consecutive bad commands tolerated before BYE. */
const MAX_BAD_COMMANDS = 20;

const TRYLATER: ResponseCode = { name: 'TRYLATER' };
const NONEXISTENT: ResponseCode = { name: 'NONEXISTENT' };

/** Commands answered alike before and after AUTHENTICATE. */
const ANY_STATE: ReadonlySet<CommandName> = new Set(['CAPABILITY', 'NOOP', 'LOGOUT']);

/** The commands of each state (RFC 5804 2): anything else is answered NO with the reason. */
const BEFORE_LOGIN: ReadonlySet<CommandName> = new Set([
  'AUTHENTICATE',
  'STARTTLS',
  'LOGOUT',
  'CAPABILITY',
  'NOOP',
]);

/**
 * One ManageSieve session (RFC 5804): the non-authenticated and authenticated states over a
 * ScriptStore, fed whole lines by the connection. Scripts are checked with libs/sieve's parser before
 * they are stored, so the mda only ever meets scripts that parse.
 */
export class ManageSieveSession {
  private state: State = { kind: 'unauthenticated', sasl: undefined };
  private authFailures = 0;
  private badCommands = 0;

  constructor(
    private readonly deps: SessionDeps,
    private readonly settings: SessionSettings,
    private readonly io: SessionIo,
    private readonly connection: ConnectionFacts,
  ) {}

  get authenticated(): boolean {
    return this.state.kind === 'authenticated';
  }

  /** RFC 5804 1.7: the capabilities, then OK. */
  greeting(): Buffer {
    return Buffer.concat([
      this.capabilities(),
      okResponse(`${this.settings.hostname} correo ManageSieve ready`),
    ]);
  }

  /** RFC 5804 2.2: after the handshake the server re-issues the capabilities without being asked. */
  tlsStarted(): Buffer {
    this.connection.secure = true;
    return Buffer.concat([this.capabilities(), okResponse('TLS active')]);
  }

  close(): void {
    this.state = { kind: 'closed' };
  }

  async handle(line: WireLine): Promise<SessionAction> {
    const state = this.state;
    if (state.kind === 'closed') return 'close';
    if (state.kind === 'unauthenticated' && state.sasl) return this.saslResponse(state, state.sasl, line);
    if (line.kind === 'bad') {
      if (line.fatal) return this.bye(line.reason);
      return this.refuse(line.reason, 'bad');
    }
    if (line.kind === 'too-large') {
      const scriptCommand = ['PUTSCRIPT', 'CHECKSCRIPT'].includes(line.command?.toUpperCase() ?? '');
      const text = `a literal of ${line.literalBytes} octets is over the limit of ${line.maxBytes}`;
      return scriptCommand ? this.no(text, { name: 'QUOTA/MAXSIZE' }) : this.refuse(text, 'bad');
    }
    const parsed = parseCommand(line.tokens);
    if (!parsed.ok) return this.refuse(parsed.error, 'bad');
    this.badCommands = 0;
    const { command } = parsed;
    const started = process.hrtime.bigint();
    try {
      if (ANY_STATE.has(command.name)) return await this.anyStateCommand(command);
      if (state.kind === 'authenticated') return await this.authenticatedCommand(command, state);
      if (!BEFORE_LOGIN.has(command.name)) {
        return await this.answer(command.name, noResponse(`${command.name} needs AUTHENTICATE first`));
      }
      return await this.unauthenticatedCommand(command, state);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      manageSieveMetrics.commandSeconds.observe({ command: command.name }, seconds);
    }
  }

  private capabilities(): Buffer {
    const caps: [string, string?][] = [
      ['IMPLEMENTATION', 'correo'],
      // RFC 5804 1.7: the list may be empty where authentication is not allowed (before TLS).
      [
        'SASL',
        this.state.kind === 'unauthenticated' && this.credentialsAllowed() ? SASL_MECHANISMS.join(' ') : '',
      ],
      ['SIEVE', SIEVE_CAPABILITY],
      ['MAXREDIRECTS', String(this.settings.maxRedirects)],
      ['VERSION', '1.0'],
    ];
    if (this.settings.tlsAvailable && !this.connection.secure && this.state.kind === 'unauthenticated') {
      caps.push(['STARTTLS']);
    }
    if (this.state.kind === 'authenticated') caps.push(['OWNER', this.state.account.address]);
    caps.push(['UNAUTHENTICATE']);
    return capabilityLines(caps);
  }

  private credentialsAllowed(): boolean {
    return this.deps.loginPolicy.credentialsAllowed(
      this.connection,
      this.settings.allowPlaintextAuthOnLoopback,
    );
  }

  private async answer(command: string, response: Buffer, data?: Buffer): Promise<SessionAction> {
    manageSieveMetrics.commands.inc({
      command,
      status: response.subarray(0, 2).toString() === 'OK' ? 'OK' : 'NO',
    });
    await this.io.write(data ? Buffer.concat([data, response]) : response);
    return 'continue';
  }

  private no(text: string, code?: ResponseCode): Promise<SessionAction> {
    return this.write(noResponse(text, code));
  }

  private async write(data: Buffer): Promise<SessionAction> {
    await this.io.write(data);
    return 'continue';
  }

  private async bye(text: string, command = 'bad'): Promise<SessionAction> {
    this.state = { kind: 'closed' };
    manageSieveMetrics.commands.inc({ command, status: 'BYE' });
    await this.io.write(byeResponse(text));
    return 'close';
  }

  /** A line that is not a command: NO with the reason, BYE after too many in a row. */
  private async refuse(reason: string, command: string): Promise<SessionAction> {
    if (++this.badCommands >= MAX_BAD_COMMANDS) return this.bye('Too many bad commands');
    return this.answer(command, noResponse(reason));
  }

  /** CAPABILITY, NOOP and LOGOUT: the same in both states. */
  private async anyStateCommand(command: ManageSieveCommand): Promise<SessionAction> {
    switch (command.name) {
      case 'CAPABILITY':
        return this.answer(command.name, okResponse(), this.capabilities());
      case 'NOOP':
        return this.noop(command.tag);
      case 'LOGOUT':
        this.state = { kind: 'closed' };
        await this.answer(command.name, okResponse('Bye'));
        return 'close';
      default:
        return this.answer(command.name, noResponse(`${command.name} is not valid here`));
    }
  }

  private async unauthenticatedCommand(
    command: ManageSieveCommand,
    state: Unauthenticated,
  ): Promise<SessionAction> {
    switch (command.name) {
      case 'STARTTLS':
        if (this.connection.secure) return this.answer(command.name, noResponse('TLS is already active'));
        if (!this.settings.tlsAvailable)
          return this.answer(command.name, noResponse('STARTTLS is not available'));
        await this.answer(command.name, okResponse('Begin TLS negotiation'));
        return 'starttls';
      case 'AUTHENTICATE': {
        const started = startSasl(command.mechanism, command.initialResponse);
        if (!started) {
          return this.refuseLogin(
            'unsupported mechanism',
            `Unsupported mechanism ${command.mechanism.slice(0, 32)}`,
          );
        }
        if (!this.credentialsAllowed()) {
          return this.refuseLogin('no TLS', 'AUTHENTICATE needs TLS: use STARTTLS first', {
            name: 'ENCRYPT-NEEDED',
          });
        }
        state.sasl = started.exchange;
        return this.saslStep(state, started.step);
      }
      default:
        return this.answer(command.name, noResponse(`${command.name} needs AUTHENTICATE first`));
    }
  }

  /** The client's answer to a challenge: one string (RFC 5804 2.1), `"*"` cancels. */
  private async saslResponse(
    state: Unauthenticated,
    sasl: SaslExchange,
    line: WireLine,
  ): Promise<SessionAction> {
    const token = line.kind === 'line' && line.tokens.length === 1 ? line.tokens[0] : undefined;
    const text = token?.kind === 'string' ? decodeUtf8(token.value) : null;
    if (text === null) {
      state.sasl = undefined;
      if (line.kind === 'bad' && line.fatal) return this.bye(line.reason);
      return this.refuseLogin('malformed SASL', 'A SASL response is one string');
    }
    return this.saslStep(state, sasl.respond(text));
  }

  private async saslStep(state: Unauthenticated, step: SaslStep): Promise<SessionAction> {
    if (step.kind === 'challenge') return this.write(dataLine(step.challenge.toString('base64')));
    state.sasl = undefined;
    if (step.kind === 'cancelled') return this.answer('AUTHENTICATE', noResponse('AUTHENTICATE cancelled'));
    if (step.kind === 'malformed') return this.refuseLogin('malformed SASL', step.reason);
    const { login, password, authorizationId } = step.credentials;
    return this.login(login, password, authorizationId);
  }

  private async refuseLogin(reason: LoginRefusal, text: string, code?: ResponseCode): Promise<SessionAction> {
    this.deps.loginPolicy.refused('managesieve', this.connection.remoteAddress, reason);
    return this.answer('AUTHENTICATE', noResponse(text, code));
  }

  private async login(login: string, password: string, authorizationId: string): Promise<SessionAction> {
    if (loginNameTooLong(login)) return this.refuseLogin('login name too long', 'The login name is too long');
    const { loginPolicy, directory } = this.deps;
    let account: AccountRef;
    try {
      const outcome = await loginPolicy.attempt(directory, {
        protocol: 'managesieve',
        login,
        password,
        authorizationId,
        ip: this.connection.remoteAddress,
      });
      if (outcome.kind === 'rejected') return await this.authFailed();
      if (outcome.kind === 'unauthorized') {
        return await this.answer('AUTHENTICATE', noResponse('Acting as another identity is not allowed'));
      }
      account = outcome.account;
    } catch {
      // The policy counted and logged the backend error.
      return this.answer('AUTHENTICATE', noResponse('Temporary failure, try again later', TRYLATER));
    }
    if (this.state.kind === 'closed') return 'close';
    if (!(await this.io.admitUser(account.accountId))) {
      return this.answer('AUTHENTICATE', noResponse('Too many sessions for this account', TRYLATER));
    }
    this.state = { kind: 'authenticated', account };
    return this.answer('AUTHENTICATE', okResponse('Logged in'));
  }

  /**
   * Counted over the whole connection, never reset by a login: otherwise one known password would buy,
   * through AUTHENTICATE and UNAUTHENTICATE in turn, unlimited guesses at other accounts on one connection.
   */
  private async authFailed(): Promise<SessionAction> {
    if (++this.authFailures >= this.settings.maxAuthFailures)
      return this.bye('Authentication failed, closing', 'AUTHENTICATE');
    return this.answer('AUTHENTICATE', noResponse('Authentication failed'));
  }

  private noop(tag: string | undefined): Promise<SessionAction> {
    return this.answer(
      'NOOP',
      okResponse('Done', tag === undefined ? undefined : { name: 'TAG', args: [tag] }),
    );
  }

  private async authenticatedCommand(
    command: ManageSieveCommand,
    state: Authenticated,
  ): Promise<SessionAction> {
    switch (command.name) {
      case 'UNAUTHENTICATE':
        // Logged out again: the line server sees `authenticated` turn false and runs the pre-auth time
        // anew. The failed AUTHENTICATEs stay counted: the limit is the connection's (see authFailed).
        this.state = { kind: 'unauthenticated', sasl: undefined };
        return this.answer(command.name, okResponse('Logged out, authenticate again'));
      case 'STARTTLS':
      case 'AUTHENTICATE':
        return this.answer(command.name, noResponse(`${command.name} is not allowed after AUTHENTICATE`));
      case 'CHECKSCRIPT': {
        const checked = this.check(command.content);
        if (!checked.ok) return this.answer(command.name, noResponse(checked.error, checked.code));
        return this.answer(command.name, this.okWithWarnings(checked.warnings, 'The script is valid'));
      }
      default:
        return this.scriptCommand(command, state);
    }
  }

  /** The commands that reach the store: a backend failure is NO (TRYLATER), never a dropped connection. */
  private async scriptCommand(command: ManageSieveCommand, state: Authenticated): Promise<SessionAction> {
    const { store, logger } = this.deps;
    const accountId = state.account.accountId;
    try {
      switch (command.name) {
        case 'LISTSCRIPTS':
          return await this.answer(command.name, okResponse(), scriptListLines(await store.list(accountId)));
        case 'GETSCRIPT': {
          const content = await store.get(accountId, command.script);
          if (content === undefined)
            return await this.answer(command.name, noResponse('There is no such script', NONEXISTENT));
          return await this.answer(command.name, okResponse(), scriptContent(content));
        }
        case 'HAVESPACE': {
          if (command.size > this.settings.maxScriptBytes) {
            return await this.answer(
              command.name,
              noResponse(`A script may have at most ${this.settings.maxScriptBytes} octets`, {
                name: 'QUOTA/MAXSIZE',
              }),
            );
          }
          const scripts = await store.list(accountId);
          const isNew = !scripts.some((s) => s.name === command.script);
          if (isNew && scripts.length >= this.settings.maxScripts)
            return await this.answer(command.name, this.tooManyScripts());
          return await this.answer(command.name, okResponse('Putting the script will succeed'));
        }
        case 'PUTSCRIPT': {
          const checked = this.check(command.content);
          if (!checked.ok) return await this.answer(command.name, noResponse(checked.error, checked.code));
          const stored = await store.put(
            accountId,
            command.script,
            command.content,
            this.settings.maxScripts,
          );
          if (stored === 'too-many') return await this.answer(command.name, this.tooManyScripts());
          logger.info({ accountId, script: command.script }, 'sieve script stored over ManageSieve');
          return await this.answer(command.name, this.okWithWarnings(checked.warnings, 'Stored'));
        }
        case 'SETACTIVE': {
          if (!(await store.activate(accountId, command.script))) {
            return await this.answer(command.name, noResponse('There is no such script', NONEXISTENT));
          }
          return await this.answer(
            command.name,
            okResponse(command.script === null ? 'No script is active' : 'Active'),
          );
        }
        case 'DELETESCRIPT': {
          const outcome = await store.delete(accountId, command.script);
          if (outcome === 'missing')
            return await this.answer(command.name, noResponse('There is no such script', NONEXISTENT));
          if (outcome === 'active') {
            return await this.answer(
              command.name,
              noResponse('The active script cannot be deleted: SETACTIVE "" first', { name: 'ACTIVE' }),
            );
          }
          return await this.answer(command.name, okResponse('Deleted'));
        }
        case 'RENAMESCRIPT': {
          const outcome = await store.rename(accountId, command.from, command.to);
          if (outcome === 'missing')
            return await this.answer(command.name, noResponse('There is no such script', NONEXISTENT));
          if (outcome === 'exists') {
            return await this.answer(
              command.name,
              noResponse('A script of that name exists', { name: 'ALREADYEXISTS' }),
            );
          }
          return await this.answer(command.name, okResponse('Renamed'));
        }
        default:
          return await this.answer(command.name, noResponse(`${command.name} is not valid here`));
      }
    } catch (error) {
      logger.error({ err: error, command: command.name, accountId }, 'ManageSieve store operation failed');
      return this.answer(command.name, noResponse('Temporary failure, try again later', TRYLATER));
    }
  }

  private tooManyScripts(): Buffer {
    return noResponse(`An account may have at most ${this.settings.maxScripts} scripts`, {
      name: 'QUOTA/MAXSCRIPTS',
    });
  }

  private okWithWarnings(warnings: string[], text: string): Buffer {
    if (warnings.length === 0) return okResponse(text);
    return okResponse(warnings.join('; '), { name: 'WARNINGS' });
  }

  private check(content: string) {
    return checkSieveScript(content, {
      maxScriptBytes: this.settings.maxScriptBytes,
      maxRedirects: this.settings.maxRedirects,
    });
  }
}
