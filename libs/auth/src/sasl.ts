/**
 * The server side of SASL (RFC 4422) for every line protocol: pure decoders and one small state machine
 * per mechanism, no I/O. IMAP AUTHENTICATE, POP3 AUTH and ManageSieve AUTHENTICATE all carry the same
 * exchange (base64 lines, "*" to cancel, "=" for an empty initial response), so they share this one
 * decoder and answer the same input the same way. smtp-ingress is the exception: smtp-server runs
 * its own SASL, and only the login policy applies there.
 *
 * Written here rather than taken from npm: sasl-plain and saslmechanisms (0.1.x, untouched for a
 * decade) are client-side, and the server side is a few strict decoders plus two tiny state machines.
 */

/** What a finished exchange hands to the login policy. */
export interface SaslCredentials {
  /** The identity to act as (RFC 4422 authzid); empty when the client asked for none. */
  authorizationId: string;
  /** The identity whose password is checked (authcid). */
  login: string;
  password: string;
}

export type SaslStep =
  /** Send this challenge ("+ " and its base64) and pass the client's next line to `respond`. */
  | { kind: 'challenge'; challenge: Buffer }
  | { kind: 'credentials'; credentials: SaslCredentials }
  /** The client sent "*" (RFC 4422 3.5): answer with the protocol's "cancelled" error. */
  | { kind: 'cancelled' }
  /** Undecodable or ill-formed: the protocol's syntax error (IMAP BAD, POP3 -ERR) with this reason. */
  | { kind: 'malformed'; reason: string };

export interface SaslExchange {
  readonly mechanism: SaslMechanism;
  /** The client's line answering the last challenge, as sent (base64, "*" or empty). */
  respond(line: string): SaslStep;
}

/** The mechanisms every line protocol offers, in the order they are advertised. */
export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

// Padding is required and nothing else is skipped: Node's own decoder drops stray characters, which
// would turn a typo in a client's configuration into a different password instead of an error.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type SaslResponse = { kind: 'data'; data: Buffer } | { kind: 'cancel' } | { kind: 'malformed' };

/**
 * One client response as it travels in IMAP, POP3 and ManageSieve: "*" cancels; an empty line is an
 * empty response; strict padded base64 otherwise. `initial` is a SASL-IR / AUTH initial response,
 * where "=" stands for an empty one and "*" is not a cancellation (RFC 4959 and RFC 5034 4).
 */
export function decodeSaslResponse(text: string, initial = false): SaslResponse {
  if (initial) {
    if (text === '=') return { kind: 'data', data: Buffer.alloc(0) };
  } else if (text === '*') return { kind: 'cancel' };
  if (!BASE64.test(text)) return { kind: 'malformed' };
  return { kind: 'data', data: Buffer.from(text, 'base64') };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text without NUL, or null: RFC 4616 carries every field as UTF-8 and NUL only as the separator. */
function utf8Field(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export type PlainDecoded = { ok: true; credentials: SaslCredentials } | { ok: false; reason: string };

/**
 * An RFC 4616 PLAIN message: [authzid] NUL authcid NUL passwd. Exactly two NULs, an authcid and a
 * password that are not empty, every field valid UTF-8. Whether the authzid may be used is the login
 * policy's decision (it must name the authenticated account itself), not the decoder's.
 */
export function decodePlainMessage(message: Buffer): PlainDecoded {
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (first < 0 || second < 0 || message.indexOf(0, second + 1) >= 0) {
    return { ok: false, reason: 'PLAIN expects authzid NUL authcid NUL password' };
  }
  const authorizationId = utf8Field(message.subarray(0, first));
  const login = utf8Field(message.subarray(first + 1, second));
  const password = utf8Field(message.subarray(second + 1));
  if (authorizationId === null || login === null || password === null) {
    return { ok: false, reason: 'PLAIN fields must be UTF-8' };
  }
  if (login === '' || password === '') return { ok: false, reason: 'PLAIN lacks a login or a password' };
  return { ok: true, credentials: { authorizationId, login, password } };
}

/** What a client sends for PLAIN (tests and the webmail client): the base64 of the message. */
export function encodePlainResponse(login: string, password: string, authorizationId = ''): string {
  return Buffer.from(`${authorizationId}\0${login}\0${password}`, 'utf8').toString('base64');
}

/** A LOGIN field (the obsolete but ubiquitous mechanism of draft-murchison-sasl-login): UTF-8, no NUL. */
function loginField(data: Buffer): string | null {
  if (data.length === 0 || data.includes(0)) return null;
  return utf8Field(data);
}

const malformed = (reason: string): SaslStep => ({ kind: 'malformed', reason });

/** Decodes one response line and hands the bytes on, or reports cancel/malformed. */
function withData(text: string, initial: boolean, next: (data: Buffer) => SaslStep): SaslStep {
  const response = decodeSaslResponse(text, initial);
  if (response.kind === 'cancel') return { kind: 'cancelled' };
  if (response.kind === 'malformed') return malformed('The response is not valid base64');
  return next(response.data);
}

function plainCredentials(data: Buffer): SaslStep {
  const decoded = decodePlainMessage(data);
  return decoded.ok ? { kind: 'credentials', credentials: decoded.credentials } : malformed(decoded.reason);
}

/** PLAIN: one message, sent as the initial response or after an empty challenge. */
class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN';
  private done = false;

  message(text: string, initial: boolean): SaslStep {
    if (this.done) return malformed('The exchange is over');
    this.done = true;
    return withData(text, initial, plainCredentials);
  }

  respond(line: string): SaslStep {
    return this.message(line, false);
  }
}

const USERNAME_CHALLENGE = Buffer.from('Username:');
const PASSWORD_CHALLENGE = Buffer.from('Password:');

/** LOGIN: "Username:" then "Password:", one base64 line each. */
class LoginExchange implements SaslExchange {
  readonly mechanism = 'LOGIN';
  private login: string | undefined;
  private done = false;

  /** The user name, as the initial response or the answer to "Username:". */
  username(text: string, initial: boolean): SaslStep {
    const step = withData(text, initial, (data) => {
      const login = loginField(data);
      if (login === null) return malformed('LOGIN expects a UTF-8 user name');
      this.login = login;
      return { kind: 'challenge', challenge: PASSWORD_CHALLENGE };
    });
    if (step.kind !== 'challenge') this.done = true;
    return step;
  }

  respond(line: string): SaslStep {
    if (this.done) return malformed('The exchange is over');
    if (this.login === undefined) return this.username(line, false);
    this.done = true;
    const login = this.login;
    return withData(line, false, (data) => {
      const password = loginField(data);
      if (password === null) return malformed('LOGIN expects a UTF-8 password');
      return { kind: 'credentials', credentials: { authorizationId: '', login, password } };
    });
  }
}

export interface SaslStart {
  exchange: SaslExchange;
  step: SaslStep;
}

/**
 * Starts the server side of `mechanism` (case-insensitive), with the client's initial response when
 * it sent one (IMAP SASL-IR, POP3 AUTH's second argument), raw as on the wire. Null for a mechanism
 * we do not offer.
 */
export function startSasl(mechanism: string, initialResponse: string | undefined): SaslStart | null {
  const name = mechanism.toUpperCase();
  if (name === 'PLAIN') {
    const exchange = new PlainExchange();
    if (initialResponse === undefined)
      return { exchange, step: { kind: 'challenge', challenge: Buffer.alloc(0) } };
    return { exchange, step: exchange.message(initialResponse, true) };
  }
  if (name === 'LOGIN') {
    const exchange = new LoginExchange();
    if (initialResponse === undefined)
      return { exchange, step: { kind: 'challenge', challenge: USERNAME_CHALLENGE } };
    return { exchange, step: exchange.username(initialResponse, true) };
  }
  return null;
}
