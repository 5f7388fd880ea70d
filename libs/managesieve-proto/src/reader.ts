/**
 * The ManageSieve (RFC 5804 4) wire tokenizer, for both directions: the server reads client commands
 * (atoms, quoted strings, literals `{n+}` and `{n}`), a client reads server responses (the same plus
 * the parentheses of a response code and `{n}` literals). Octets are pushed as they arrive; complete
 * lines come out. Written by hand because no npm package parses ManageSieve, and IMAP parsers do not
 * fit (different literal rules, no tags).
 *
 * Memory is bounded: the octets of a line outside literals by `maxLineBytes`, one literal by
 * `maxLiteralBytes`, all literals of one line together by the same figure. Whatever is over is
 * skipped as it streams in (never buffered) and reported once its line ends, so the peer gets an answer
 * instead of a hung connection.
 */

export type Token =
  /** A bare word: a command name, a response status or code, a number, ACTIVE. */
  | { kind: 'atom'; value: string }
  /** A quoted string or a literal, as its raw octets (names must be UTF-8: checked by the parser). */
  | { kind: 'string'; value: Buffer; literal: boolean }
  /** `(` and `)` around a response code (only in responses). */
  | { kind: 'open' }
  | { kind: 'close' };

export type WireLine =
  | { kind: 'line'; tokens: Token[] }
  /**
   * A literal (or the literals of one line together) over the limit: skipped, the rest of the line
   * read. `command` is the first atom, so the server can answer PUTSCRIPT with QUOTA/MAXSIZE.
   */
  | { kind: 'too-large'; command: string | undefined; literalBytes: number; maxBytes: number }
  /**
   * Not ManageSieve: skipped to the end of the line. `fatal` when the octets after it cannot be
   * trusted to be a new command (a literal whose length could not be read): the server says BYE.
   */
  | { kind: 'bad'; reason: string; fatal: boolean };

export interface ReaderLimits {
  /** Octets of one line outside its literals, without the line end (quoted strings included). */
  maxLineBytes: number;
  /** Octets of the literals of one line together. */
  maxLiteralBytes: number;
  /** Tokens in one line (a command has at most three arguments; a response a handful). */
  maxTokens?: number;
}

export type ReaderDirection =
  /** The server reads commands: `(`/`)` are errors, literals may carry `+`. */
  | 'commands'
  /** A client reads responses: parentheses are tokens, literals are `{n}` (a `+` is tolerated). */
  | 'responses';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const PLUS = 0x2b;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/** Literal lengths beyond ten digits cannot be skipped in any sensible time: the line is fatal. */
const MAX_LENGTH_DIGITS = 10;
const DEFAULT_MAX_TOKENS = 16;

/** RFC 5804 4 ATOM-CHAR: printable ASCII except the atom-specials. */
function isAtomChar(byte: number): boolean {
  return (
    byte > SP &&
    byte < 0x7f &&
    byte !== DQUOTE &&
    byte !== BACKSLASH &&
    byte !== OPEN_BRACE &&
    byte !== CLOSE_BRACE &&
    byte !== OPEN_PAREN &&
    byte !== CLOSE_PAREN &&
    byte !== 0x25 && // %
    byte !== 0x2a // *
  );
}

type State =
  | 'token' // between tokens (or at the start of a line)
  | 'atom'
  | 'quoted'
  | 'quoted-escape'
  | 'literal-length'
  | 'literal-close' // after `+`, expecting `}`
  | 'literal-cr' // after `}`, expecting CR or LF
  | 'literal-lf' // after the CR, expecting LF
  | 'literal-data'
  | 'line-cr' // a CR ended the line, expecting LF
  | 'skip'; // an error: skip to LF

/** Splits octets into ManageSieve lines (see the module comment). */
export class WireReader {
  private readonly lines: WireLine[] = [];
  private readonly maxTokens: number;
  private state: State = 'token';
  private tokens: Token[] = [];
  private lineBytes = 0;
  private word: number[] = [];
  private literalLength = 0;
  private literalDigits = 0;
  private literalParts: Buffer[] = [];
  private literalRemaining = 0;
  /** The current literal is skipped (over the limit). */
  private literalSkipping = false;
  private literalTotal = 0;
  private oversized: number | undefined;
  private error: { reason: string; fatal: boolean } | undefined;

  constructor(
    private readonly limits: ReaderLimits,
    private readonly direction: ReaderDirection = 'commands',
  ) {
    this.maxTokens = limits.maxTokens ?? DEFAULT_MAX_TOKENS;
  }

  /** A literal's octets are under way (the line server's minimum-rate rule for bulk transfers). */
  get receivingBulk(): boolean {
    return this.state === 'literal-data';
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'literal-data') {
        const take = Math.min(this.literalRemaining, chunk.length - i);
        if (!this.literalSkipping) this.literalParts.push(Buffer.from(chunk.subarray(i, i + take)));
        this.literalRemaining -= take;
        i += take;
        if (this.literalRemaining === 0) this.finishLiteral();
        continue;
      }
      if (this.state === 'skip') {
        const lf = chunk.indexOf(LF, i);
        if (lf === -1) return;
        i = lf + 1;
        this.endLine();
        continue;
      }
      this.step(chunk[i]!);
      i++;
    }
  }

  /** The next complete line, or null until more octets arrive. */
  next(): WireLine | null {
    return this.lines.shift() ?? null;
  }

  /** Forgets everything received so far (STARTTLS: nothing from before the handshake is a command). */
  discard(): void {
    this.lines.length = 0;
    this.resetLine();
  }

  private resetLine(): void {
    this.state = 'token';
    this.tokens = [];
    this.lineBytes = 0;
    this.word = [];
    this.literalParts = [];
    this.literalTotal = 0;
    this.literalSkipping = false;
    this.oversized = undefined;
    this.error = undefined;
  }

  private fail(reason: string, fatal = false, atLineEnd = false): void {
    this.error ??= { reason, fatal };
    if (atLineEnd) this.endLine();
    else this.state = 'skip';
  }

  private endLine(): void {
    const firstAtom = this.tokens[0]?.kind === 'atom' ? this.tokens[0].value : undefined;
    if (this.error) this.lines.push({ kind: 'bad', ...this.error });
    else if (this.oversized !== undefined) {
      this.lines.push({
        kind: 'too-large',
        command: firstAtom,
        literalBytes: this.oversized,
        maxBytes: this.limits.maxLiteralBytes,
      });
    } else this.lines.push({ kind: 'line', tokens: this.tokens });
    this.resetLine();
  }

  /** False when the line has too many tokens (it is then skipped). */
  private addToken(token: Token): boolean {
    if (this.tokens.length >= this.maxTokens) {
      this.fail(`more than ${this.maxTokens} arguments`);
      return false;
    }
    this.tokens.push(token);
    return true;
  }

  private step(byte: number): void {
    if (this.state !== 'literal-cr' && this.state !== 'literal-lf' && this.state !== 'line-cr') {
      if (++this.lineBytes > this.limits.maxLineBytes && byte !== LF && byte !== CR) {
        this.fail(`line too long: at most ${this.limits.maxLineBytes} octets outside literals`);
        return;
      }
    }
    switch (this.state) {
      case 'token':
        return this.tokenStart(byte);
      case 'atom': {
        if (isAtomChar(byte)) {
          this.word.push(byte);
          return;
        }
        const added = this.addToken({ kind: 'atom', value: Buffer.from(this.word).toString('latin1') });
        this.word = [];
        if (!added) {
          if (byte === LF) this.endLine();
          return;
        }
        this.state = 'token';
        return this.tokenStart(byte);
      }
      case 'quoted':
        if (byte === DQUOTE) {
          const added = this.addToken({ kind: 'string', value: Buffer.from(this.word), literal: false });
          this.word = [];
          if (added) this.state = 'token';
        } else if (byte === BACKSLASH) this.state = 'quoted-escape';
        else if (byte === CR || byte === LF || byte === 0) {
          this.fail('a quoted string may not contain CR, LF or NUL', false, byte === LF);
        } else this.word.push(byte);
        return;
      case 'quoted-escape':
        // RFC 5804 4: only \" and \\ are escapes in a quoted string.
        if (byte !== DQUOTE && byte !== BACKSLASH) {
          return this.fail('only \\" and \\\\ may be escaped in a quoted string', false, byte === LF);
        }
        this.word.push(byte);
        this.state = 'quoted';
        return;
      case 'literal-length':
        if (byte >= 0x30 && byte <= 0x39) {
          if (++this.literalDigits > MAX_LENGTH_DIGITS) {
            return this.fail('literal length out of range', true);
          }
          this.literalLength = this.literalLength * 10 + (byte - 0x30);
          return;
        }
        if (this.literalDigits === 0) return this.fail('a literal needs a length', true, byte === LF);
        if (byte === PLUS) {
          this.state = 'literal-close';
          return;
        }
        if (byte === CLOSE_BRACE) {
          this.state = 'literal-cr';
          return;
        }
        return this.fail('bad literal header', true, byte === LF);
      case 'literal-close':
        if (byte !== CLOSE_BRACE) return this.fail('bad literal header', true, byte === LF);
        this.state = 'literal-cr';
        return;
      case 'literal-cr':
        if (byte === CR) {
          this.state = 'literal-lf';
          return;
        }
        if (byte === LF) return this.startLiteral();
        return this.fail('a literal header must end its line', true);
      case 'literal-lf':
        if (byte === LF) return this.startLiteral();
        return this.fail('a literal header must end its line', true);
      case 'line-cr':
        if (byte === LF) return this.endLine();
        return this.fail('CR without LF');
    }
  }

  private tokenStart(byte: number): void {
    if (byte === SP) return;
    if (byte === LF) return this.endLine();
    if (byte === CR) {
      this.state = 'line-cr';
      return;
    }
    if (byte === DQUOTE) {
      this.state = 'quoted';
      return;
    }
    if (byte === OPEN_BRACE) {
      this.state = 'literal-length';
      this.literalLength = 0;
      this.literalDigits = 0;
      return;
    }
    if (this.direction === 'responses' && (byte === OPEN_PAREN || byte === CLOSE_PAREN)) {
      this.addToken({ kind: byte === OPEN_PAREN ? 'open' : 'close' });
      return;
    }
    if (isAtomChar(byte)) {
      this.state = 'atom';
      this.word = [byte];
      return;
    }
    this.fail(`unexpected character 0x${byte.toString(16).padStart(2, '0')}`);
  }

  private startLiteral(): void {
    this.literalTotal += this.literalLength;
    this.literalSkipping = this.literalTotal > this.limits.maxLiteralBytes;
    if (this.literalSkipping) this.oversized = Math.max(this.oversized ?? 0, this.literalLength);
    this.literalParts = [];
    this.literalRemaining = this.literalLength;
    this.state = 'literal-data';
    if (this.literalRemaining === 0) this.finishLiteral();
  }

  private finishLiteral(): void {
    this.state = 'token';
    if (this.literalSkipping) {
      this.literalSkipping = false;
      return;
    }
    const value = this.literalParts.length === 1 ? this.literalParts[0]! : Buffer.concat(this.literalParts);
    this.literalParts = [];
    this.addToken({ kind: 'string', value, literal: true });
  }
}
