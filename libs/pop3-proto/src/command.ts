/**
 * POP3 command lines (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) parsed into values.
 * Pure: no state, no I/O. Whether a command is allowed in the session's current state is the
 * session's business, not the parser's.
 */
export type Pop3Command =
  | { name: 'USER'; user: string }
  | { name: 'PASS'; password: string }
  | { name: 'AUTH'; mechanism: string | undefined; initialResponse: string | undefined }
  | { name: 'STLS' }
  | { name: 'CAPA' }
  | { name: 'STAT' }
  | { name: 'LIST'; message: number | undefined }
  | { name: 'UIDL'; message: number | undefined }
  | { name: 'RETR'; message: number }
  | { name: 'TOP'; message: number; lines: number }
  | { name: 'DELE'; message: number }
  | { name: 'NOOP' }
  | { name: 'RSET' }
  | { name: 'QUIT' };

export type Pop3CommandName = Pop3Command['name'];

export type ParseResult = { ok: true; command: Pop3Command } | { ok: false; error: string };

/** Message numbers and TOP line counts beyond this are refused rather than rounded by a float. */
const MAX_NUMBER = 2 ** 31 - 1;

const NO_ARGUMENT = new Set(['STLS', 'CAPA', 'STAT', 'NOOP', 'RSET', 'QUIT'] as const);

function fail(error: string): ParseResult {
  return { ok: false, error };
}

function done(command: Pop3Command): ParseResult {
  return { ok: true, command };
}

/** A decimal number in [min, MAX_NUMBER], digits only (no sign, no spaces, no exponent). */
function parseNumber(text: string, min: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= MAX_NUMBER ? value : undefined;
}

/**
 * Parses one command line without its line end. The keyword is case-insensitive (RFC 1939 3);
 * arguments are separated by single spaces, except PASS, whose argument is the rest of the line
 * because passwords may contain spaces (RFC 1939 7, PASS discussion).
 */
export function parseCommand(line: string): ParseResult {
  if (line.length === 0) return fail('Empty command line');
  const space = line.indexOf(' ');
  const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? undefined : line.slice(space + 1);
  if (!/^[A-Z]{3,4}$/.test(keyword)) return fail('Unknown command');

  if (keyword === 'PASS') {
    if (rest === undefined || rest === '') return fail('PASS needs a password');
    return done({ name: 'PASS', password: rest });
  }

  const args = rest === undefined ? [] : rest.split(' ');
  if (args.some((arg) => arg === '')) return fail('Arguments must be separated by single spaces');

  if ((NO_ARGUMENT as Set<string>).has(keyword)) {
    if (args.length > 0) return fail(`${keyword} takes no arguments`);
    return done({ name: keyword as 'STLS' | 'CAPA' | 'STAT' | 'NOOP' | 'RSET' | 'QUIT' });
  }

  switch (keyword) {
    case 'USER':
      if (args.length !== 1) return fail('USER needs exactly one argument: the login');
      return done({ name: 'USER', user: args[0]! });
    case 'AUTH':
      if (args.length > 2) return fail('AUTH takes a mechanism and an optional initial response');
      return done({ name: 'AUTH', mechanism: args[0]?.toUpperCase(), initialResponse: args[1] });
    case 'LIST':
    case 'UIDL': {
      if (args.length > 1) return fail(`${keyword} takes at most one message number`);
      if (args.length === 0) return done({ name: keyword, message: undefined });
      const message = parseNumber(args[0]!, 1);
      if (message === undefined) return fail('Message number must be a positive integer');
      return done({ name: keyword, message });
    }
    case 'RETR':
    case 'DELE': {
      if (args.length !== 1) return fail(`${keyword} needs exactly one message number`);
      const message = parseNumber(args[0]!, 1);
      if (message === undefined) return fail('Message number must be a positive integer');
      return done({ name: keyword, message });
    }
    case 'TOP': {
      if (args.length !== 2) return fail('TOP needs a message number and a number of lines');
      const message = parseNumber(args[0]!, 1);
      if (message === undefined) return fail('Message number must be a positive integer');
      const lines = parseNumber(args[1]!, 0);
      if (lines === undefined) return fail('Number of lines must be a non-negative integer');
      return done({ name: 'TOP', message, lines });
    }
    default:
      return fail('Unknown command');
  }
}
