/**
 * The client's side of RFC 5804 (the webmail's rules view, the tests): commands encoded with
 * non-synchronizing literals where a string cannot be quoted, and server lines read back into
 * responses. Pair with `new WireReader(limits, 'responses')` for the octets.
 */
import { decodeUtf8 } from './command.js';
import type { Token, WireLine } from './reader.js';
import { MAX_QUOTED_BYTES, type ResponseCode, type ResponseStatus } from './response.js';

/** A client-to-server string: quoted when it can be, else `{n+}` CRLF octets (RFC 5804 4 literal-c2s). */
export function encodeClientString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const quotable =
    bytes.length <= MAX_QUOTED_BYTES && !bytes.includes(0x0d) && !bytes.includes(0x0a) && !bytes.includes(0);
  if (quotable) return Buffer.from(`"${bytes.toString('utf8').replace(/["\\]/g, '\\$&')}"`, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}+}\r\n`), bytes]);
}

/** A command line: the name as an atom, strings quoted or as literals, numbers as numbers; CRLF. */
export function encodeCommand(name: string, ...args: (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(name)];
  for (const arg of args) {
    parts.push(
      Buffer.from(' '),
      typeof arg === 'number' ? Buffer.from(String(arg)) : encodeClientString(arg),
    );
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** One item of a data line: a string (UTF-8 decoded; invalid octets replaced) or an atom (ACTIVE). */
export type DataItem = { kind: 'string'; value: string } | { kind: 'atom'; value: string };

export type ServerLine =
  | { kind: 'status'; status: ResponseStatus; code: ResponseCode | undefined; text: string | undefined }
  | { kind: 'data'; items: DataItem[] }
  | { kind: 'bad'; reason: string };

const stringOf = (token: Token & { kind: 'string' }): string =>
  decodeUtf8(token.value) ?? token.value.toString('utf8');

/** A tokenized line from the server: a status line (OK/NO/BYE with code and text) or a data line. */
export function parseServerLine(line: WireLine): ServerLine {
  if (line.kind === 'bad') return { kind: 'bad', reason: line.reason };
  if (line.kind === 'too-large')
    return { kind: 'bad', reason: `a literal of ${line.literalBytes} octets is too large` };
  const tokens = line.tokens;
  const head = tokens[0];
  const status = head?.kind === 'atom' ? head.value.toUpperCase() : undefined;
  if (status === 'OK' || status === 'NO' || status === 'BYE') {
    let i = 1;
    let code: ResponseCode | undefined;
    if (tokens[i]?.kind === 'open') {
      const name = tokens[i + 1];
      if (name?.kind !== 'atom') return { kind: 'bad', reason: 'a response code starts with an atom' };
      const args: string[] = [];
      i += 2;
      while (i < tokens.length && tokens[i]!.kind !== 'close') {
        const arg = tokens[i]!;
        if (arg.kind === 'string') args.push(stringOf(arg));
        else if (arg.kind === 'atom') args.push(arg.value);
        else return { kind: 'bad', reason: 'nested parentheses in a response code' };
        i++;
      }
      if (tokens[i]?.kind !== 'close') return { kind: 'bad', reason: 'unclosed response code' };
      i++;
      code = args.length > 0 ? { name: name.value.toUpperCase(), args } : { name: name.value.toUpperCase() };
    }
    const textToken = tokens[i];
    if (textToken !== undefined && textToken.kind !== 'string') {
      return { kind: 'bad', reason: 'the response text must be a string' };
    }
    if (i + 1 < tokens.length) return { kind: 'bad', reason: 'text after the response text' };
    return { kind: 'status', status, code, text: textToken && stringOf(textToken) };
  }
  const items: DataItem[] = [];
  for (const token of tokens) {
    if (token.kind === 'string') items.push({ kind: 'string', value: stringOf(token) });
    else if (token.kind === 'atom') items.push({ kind: 'atom', value: token.value });
    else return { kind: 'bad', reason: 'parentheses outside a response code' };
  }
  return { kind: 'data', items };
}

/** A command's whole answer: its data lines and the status line that ended them. */
export interface ManageSieveResponse {
  status: ResponseStatus;
  code: ResponseCode | undefined;
  text: string | undefined;
  data: DataItem[][];
}

/**
 * Groups server lines into responses. During AUTHENTICATE a data line of one string is a SASL
 * challenge: read those with parseServerLine directly.
 */
export class ResponseCollector {
  private data: DataItem[][] = [];

  /** A complete response, or null while data lines keep coming. Throws on a line that is not RFC 5804. */
  push(line: WireLine): ManageSieveResponse | null {
    const parsed = parseServerLine(line);
    if (parsed.kind === 'bad') throw new Error(`bad ManageSieve response: ${parsed.reason}`);
    if (parsed.kind === 'data') {
      this.data.push(parsed.items);
      return null;
    }
    const response = { status: parsed.status, code: parsed.code, text: parsed.text, data: this.data };
    this.data = [];
    return response;
  }
}

/** CAPABILITY's (or the greeting's) data as a map: upper-case name to value ('' when none). */
export function capabilitiesOf(response: ManageSieveResponse): Map<string, string> {
  const map = new Map<string, string>();
  for (const items of response.data) {
    if (items[0]?.kind !== 'string') continue;
    map.set(items[0].value.toUpperCase(), items[1]?.value ?? '');
  }
  return map;
}

/** LISTSCRIPTS' data as names with their active mark. */
export function scriptListOf(response: ManageSieveResponse): { name: string; active: boolean }[] {
  return response.data
    .filter((items) => items[0]?.kind === 'string')
    .map((items) => ({
      name: items[0]!.value,
      active: items[1]?.kind === 'atom' && items[1].value.toUpperCase() === 'ACTIVE',
    }));
}
