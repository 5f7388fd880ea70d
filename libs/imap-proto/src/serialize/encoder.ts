import { isAtomChar } from '../lexer/atom.js';
import { encodeMailboxName } from '../mutf7.js';

/**
 * The one response serializer: every server response is built as a list of ImapValues and written by
 * encodeValues, which alone decides between atom, quoted string and literal.
 */
export type ImapValue =
  /** Written verbatim: keywords, flags and fetch item names the caller knows to be valid. */
  | { type: 'atom'; value: string }
  /** string / nstring: quoted when safe, literal otherwise. */
  | { type: 'string'; value: string | Buffer }
  /** astring: an atom when the text allows it, else a string. */
  | { type: 'astring'; value: string }
  /** Values written side by side with no space: the parts of a multipart BODYSTRUCTURE (1*body). */
  | { type: 'adjacent'; values: ImapValue[] }
  /**
   * Message data (BODY[...], RFC822*, BINARY[...]) always as a literal, even when short and
   * quotable: Dovecot does so, and some clients (imapflow) read body data only from literals.
   */
  | { type: 'literal'; value: Buffer }
  /** literal8 (RFC 3516) for BINARY data holding NUL. */
  | { type: 'literal8'; value: Buffer }
  /** A literal whose octets the caller streams itself (see untaggedParts): only its "{n}" is encoded here. */
  | { type: 'streamed-literal'; value: LiteralStream; binary?: boolean }
  | { type: 'number'; value: number | bigint }
  /** NIL */
  | null
  /** A parenthesised list. */
  | ImapValue[];

/**
 * Message data too big to hold: the serializer writes "{size}" CRLF and leaves a place for the
 * octets, which the server pipes from the blob store with backpressure. No I/O happens here.
 */
export interface LiteralStream {
  size: number;
  /** Opens the octets; they must be exactly `size` long. */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** One response in pieces: encoded bytes, and the streamed literals between them in order. */
export type ResponsePart = Buffer | LiteralStream;

export interface EncodeOptions {
  /** UTF8=ACCEPT is enabled: 8-bit UTF-8 may be quoted and mailbox names are sent as UTF-8. */
  utf8?: boolean;
}

/** Longer strings go out as literals: clients cope better with a literal than with a huge quoted line. */
const MAX_QUOTED = 1024;

export const atom = (value: string): ImapValue => ({ type: 'atom', value });
export const str = (value: string | Buffer): ImapValue => ({ type: 'string', value });
export const nstr = (value: string | Buffer | null): ImapValue => (value === null ? null : str(value));
/** Message data: NIL, or always a literal (see the `literal` value), streamed when the caller asks to. */
export const messageData = (value: Buffer | LiteralStream | null): ImapValue =>
  value === null
    ? null
    : Buffer.isBuffer(value)
      ? { type: 'literal', value }
      : { type: 'streamed-literal', value };
export const astr = (value: string): ImapValue => ({ type: 'astring', value });
export const num = (value: number | bigint): ImapValue => ({ type: 'number', value });

/** A mailbox name as the client expects it: modified UTF-7 unless UTF8=ACCEPT is enabled. */
export function mailboxValue(name: string, options: EncodeOptions = {}): ImapValue {
  if (name.toUpperCase() === 'INBOX') return atom('INBOX');
  return astr(options.utf8 ? name : encodeMailboxName(name));
}

function canQuote(bytes: Buffer, options: EncodeOptions): boolean {
  if (bytes.length > MAX_QUOTED) return false;
  for (const b of bytes) {
    if (b === 0 || b === 0x0d || b === 0x0a) return false;
    if (b >= 0x80 && !options.utf8) return false;
  }
  return true;
}

function isAtom(text: string): boolean {
  if (text === '' || text.toUpperCase() === 'NIL') return false;
  for (let i = 0; i < text.length; i++) if (!isAtomChar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * A response being encoded: text (atoms, numbers, quoted strings, "{n}" CRLF) is gathered in one string
 * and turned into bytes once, when raw bytes (a literal's octets) or a streamed literal come, or at the
 * end. A Buffer per token was most of FETCH's encoding time (`FETCH 1:* (UID FLAGS)`: some twenty per
 * message) in the IMAP benchmark's profile.
 */
class ResponseWriter {
  readonly parts: ResponsePart[] = [];
  private text = '';

  /** Text sent as its UTF-8 bytes. */
  write(text: string): void {
    this.text += text;
  }

  /** Octets as they are, or a streamed literal, after the text so far. */
  raw(part: ResponsePart): void {
    this.flush();
    this.parts.push(part);
  }

  /** The parts, adjacent bytes joined. */
  finish(): ResponsePart[] {
    this.flush();
    const joined: ResponsePart[] = [];
    let run: Buffer[] = [];
    for (const part of this.parts) {
      if (Buffer.isBuffer(part)) {
        run.push(part);
        continue;
      }
      if (run.length) joined.push(run.length === 1 ? run[0]! : Buffer.concat(run));
      run = [];
      joined.push(part);
    }
    if (run.length) joined.push(run.length === 1 ? run[0]! : Buffer.concat(run));
    return joined;
  }

  private flush(): void {
    if (this.text === '') return;
    this.parts.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
  }
}

/**
 * A string quoted as canQuote and the byte loop below would quote its UTF-8 bytes, or null: escaping
 * per character is the same as per byte, since no byte of a multi-byte UTF-8 sequence is below 0x80.
 */
function quotedText(value: string, options: EncodeOptions): string | null {
  if (value.length > MAX_QUOTED) return null;
  let escaped = false;
  let eightBit = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0d || c === 0x0a) return null;
    if (c >= 0x80) eightBit = true;
    else if (c === 0x22 || c === 0x5c) escaped = true;
  }
  if (eightBit && (!options.utf8 || Buffer.byteLength(value, 'utf8') > MAX_QUOTED)) return null;
  return `"${escaped ? value.replace(/["\\]/g, '\\$&') : value}"`;
}

function encodeString(value: string | Buffer, options: EncodeOptions, out: ResponseWriter): void {
  if (typeof value === 'string') {
    const quoted = quotedText(value, options);
    if (quoted !== null) {
      out.write(quoted);
      return;
    }
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (canQuote(bytes, options)) {
    const quoted: number[] = [0x22];
    for (const b of bytes) {
      if (b === 0x22 || b === 0x5c) quoted.push(0x5c);
      quoted.push(b);
    }
    quoted.push(0x22);
    out.raw(Buffer.from(quoted));
    return;
  }
  out.write(`{${bytes.length}}\r\n`);
  out.raw(bytes);
}

function encodeValue(value: ImapValue, options: EncodeOptions, out: ResponseWriter): void {
  if (value === null) {
    out.write('NIL');
  } else if (Array.isArray(value)) {
    out.write('(');
    encodeList(value, options, out);
    out.write(')');
  } else if (value.type === 'atom') {
    out.write(value.value);
  } else if (value.type === 'number') {
    out.write(value.value.toString());
  } else if (value.type === 'astring') {
    // Atom characters are ASCII: their UTF-8 bytes are their Latin-1 bytes.
    if (isAtom(value.value)) out.write(value.value);
    else encodeString(value.value, options, out);
  } else if (value.type === 'string') {
    encodeString(value.value, options, out);
  } else if (value.type === 'adjacent') {
    for (const v of value.values) encodeValue(v, options, out);
  } else if (value.type === 'literal') {
    out.write(`{${value.value.length}}\r\n`);
    out.raw(value.value);
  } else if (value.type === 'streamed-literal') {
    out.write(`${value.binary ? '~' : ''}{${value.value.size}}\r\n`);
    out.raw(value.value);
  } else {
    out.write(`~{${value.value.length}}\r\n`);
    out.raw(value.value);
  }
}

function encodeList(values: ImapValue[], options: EncodeOptions, out: ResponseWriter): void {
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out.write(' ');
    encodeValue(values[i]!, options, out);
  }
}

function onlyBuffers(parts: ResponsePart[]): Buffer {
  if (!parts.every((part) => Buffer.isBuffer(part))) {
    throw new Error('a streamed literal needs untaggedParts, not a single buffer');
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Values separated by single spaces, no line end. */
export function encodeValues(values: ImapValue[], options: EncodeOptions = {}): Buffer {
  const out = new ResponseWriter();
  encodeList(values, options, out);
  return onlyBuffers(out.finish());
}

/** "* " values CRLF: one untagged response. */
export function untagged(values: ImapValue[], options: EncodeOptions = {}): Buffer {
  return onlyBuffers(untaggedParts(values, options));
}

/** "* " values CRLF in pieces: adjacent bytes joined, each streamed literal a piece of its own. */
export function untaggedParts(values: ImapValue[], options: EncodeOptions = {}): ResponsePart[] {
  const out = new ResponseWriter();
  out.write('* ');
  encodeList(values, options, out);
  out.write('\r\n');
  return out.finish();
}

/** resp-text cannot hold CR or LF; anything else a caller passes is kept. */
export function responseText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
