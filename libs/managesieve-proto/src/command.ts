import type { Token } from './reader.js';

/** One parsed client command (RFC 5804 2). Names are UTF-8 and checked (see checkScriptName). */
export type ManageSieveCommand =
  | { name: 'AUTHENTICATE'; mechanism: string; initialResponse: string | undefined }
  | { name: 'STARTTLS' }
  | { name: 'LOGOUT' }
  | { name: 'CAPABILITY' }
  | { name: 'HAVESPACE'; script: string; size: number }
  | { name: 'PUTSCRIPT'; script: string; content: string }
  | { name: 'LISTSCRIPTS' }
  /** `script` is null for SETACTIVE "" (no script active). */
  | { name: 'SETACTIVE'; script: string | null }
  | { name: 'GETSCRIPT'; script: string }
  | { name: 'DELETESCRIPT'; script: string }
  | { name: 'RENAMESCRIPT'; from: string; to: string }
  | { name: 'CHECKSCRIPT'; content: string }
  | { name: 'NOOP'; tag: string | undefined }
  | { name: 'UNAUTHENTICATE' };

export type CommandName = ManageSieveCommand['name'];

export type ParsedCommand = { ok: true; command: ManageSieveCommand } | { ok: false; error: string };

/** Script names longer than this (in characters) are refused (the store's column check). */
export const MAX_SCRIPT_NAME_CHARS = 256;
/** RFC 5804 4: number = 1*DIGIT, 0..4294967295. */
const MAX_NUMBER = 4294967295;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Octets as UTF-8 text, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

// RFC 5804 1.6: no control characters (C0, DEL, C1), no LINE/PARAGRAPH SEPARATOR.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Why `name` cannot name a script (RFC 5804 1.6), or undefined when it can. */
export function checkScriptName(name: string): string | undefined {
  if (name === '') return 'a script name may not be empty';
  if ([...name].length > MAX_SCRIPT_NAME_CHARS) {
    return `a script name is at most ${MAX_SCRIPT_NAME_CHARS} characters`;
  }
  if (FORBIDDEN_IN_NAME.test(name)) return 'a script name may not contain control characters';
  return undefined;
}

/** The command lines this module knows, for the error on anything else. */
const ARITY: Record<CommandName, [min: number, max: number]> = {
  AUTHENTICATE: [1, 2],
  STARTTLS: [0, 0],
  LOGOUT: [0, 0],
  CAPABILITY: [0, 0],
  HAVESPACE: [2, 2],
  PUTSCRIPT: [2, 2],
  LISTSCRIPTS: [0, 0],
  SETACTIVE: [1, 1],
  GETSCRIPT: [1, 1],
  DELETESCRIPT: [1, 1],
  RENAMESCRIPT: [2, 2],
  CHECKSCRIPT: [1, 1],
  NOOP: [0, 1],
  UNAUTHENTICATE: [0, 0],
};

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(ARITY, name);
}

class CommandError extends Error {}

function text(token: Token | undefined, what: string): string {
  if (token?.kind !== 'string') throw new CommandError(`${what} must be a quoted string or a literal`);
  const value = decodeUtf8(token.value);
  if (value === null) throw new CommandError(`${what} is not valid UTF-8`);
  return value;
}

/**
 * RFC 5804 1.6: names are Net-Unicode (RFC 5198), which is NFC: a name sent decomposed (as macOS
 * clients may) is the same script as its composed form, so names are normalized before use.
 */
function scriptName(token: Token | undefined, allowEmpty = false): string {
  const name = text(token, 'the script name').normalize('NFC');
  if (allowEmpty && name === '') return name;
  const problem = checkScriptName(name);
  if (problem) throw new CommandError(problem);
  return name;
}

function number(token: Token | undefined, what: string): number {
  if (token?.kind !== 'atom' || !/^\d{1,10}$/.test(token.value) || Number(token.value) > MAX_NUMBER) {
    throw new CommandError(`${what} must be a number from 0 to ${MAX_NUMBER}`);
  }
  return Number(token.value);
}

/**
 * A tokenized line as a command: the name is case-insensitive (RFC 5804 4), arguments are checked
 * for count and kind. Bad input is a result with a reason for a NO, never a throw.
 */
export function parseCommand(tokens: readonly Token[]): ParsedCommand {
  const [head, ...args] = tokens;
  if (head === undefined) return { ok: false, error: 'empty command' };
  if (head.kind !== 'atom') return { ok: false, error: 'a command starts with its name' };
  const name = head.value.toUpperCase();
  if (!isCommandName(name)) return { ok: false, error: `unknown command ${head.value.slice(0, 32)}` };
  const [min, max] = ARITY[name];
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    return { ok: false, error: `${name} takes ${expected} arguments, not ${args.length}` };
  }
  try {
    return { ok: true, command: build(name, args) };
  } catch (error) {
    if (error instanceof CommandError) return { ok: false, error: `${name}: ${error.message}` };
    throw error;
  }
}

function build(name: CommandName, args: Token[]): ManageSieveCommand {
  switch (name) {
    case 'AUTHENTICATE':
      return {
        name,
        mechanism: text(args[0], 'the mechanism'),
        initialResponse: args[1] === undefined ? undefined : text(args[1], 'the initial response'),
      };
    case 'HAVESPACE':
      return { name, script: scriptName(args[0]), size: number(args[1], 'the size') };
    case 'PUTSCRIPT':
      return { name, script: scriptName(args[0]), content: text(args[1], 'the script') };
    case 'SETACTIVE': {
      const script = scriptName(args[0], true);
      return { name, script: script === '' ? null : script };
    }
    case 'GETSCRIPT':
    case 'DELETESCRIPT':
      return { name, script: scriptName(args[0]) };
    case 'RENAMESCRIPT':
      return { name, from: scriptName(args[0]), to: scriptName(args[1]) };
    case 'CHECKSCRIPT':
      return { name, content: text(args[0], 'the script') };
    case 'NOOP':
      return { name, tag: args[0] === undefined ? undefined : text(args[0], 'the tag') };
    case 'STARTTLS':
    case 'LOGOUT':
    case 'CAPABILITY':
    case 'LISTSCRIPTS':
    case 'UNAUTHENTICATE':
      return { name };
  }
}
