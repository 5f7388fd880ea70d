import type { ParseErrorCode } from '../errors.js';
import { ParseError } from '../errors.js';

export interface ParseOptions {
  /** The client has sent ENABLE UTF8=ACCEPT (RFC 6855): mailbox names are raw UTF-8, not modified UTF-7. */
  utf8Accept?: boolean;
}

export const SP = 0x20;
export const CR = 0x0d;
export const LF = 0x0a;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;

/** A cursor over the bytes of one complete command (its literals inline, as the receiver hands it over). */
export class Reader {
  pos = 0;
  /** Set as soon as the tag is read, so every later error can be answered with it. */
  tag: string | null = null;

  constructor(
    readonly bytes: Buffer,
    readonly options: ParseOptions = {},
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The byte at the cursor, or -1 at the end of the command. */
  peek(offset = 0): number {
    const at = this.pos + offset;
    return at < this.bytes.length ? this.bytes[at]! : -1;
  }

  fail(message: string, code: ParseErrorCode | null = null): never {
    throw new ParseError(message, this.tag, code);
  }

  /** What follows the cursor, shown to the client in an error (printable ASCII only, cut short). */
  describeHere(): string {
    if (this.atEnd) return 'end of line';
    const slice = this.bytes.subarray(this.pos, this.pos + 20).toString('latin1');
    return JSON.stringify(slice.replace(/[^\x20-\x7e]/g, '?'));
  }

  tryChar(ch: number): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  expectChar(ch: number, what: string): void {
    if (!this.tryChar(ch)) this.fail(`Expected ${what}, found ${this.describeHere()}`);
  }

  sp(after?: string): void {
    if (this.peek() === SP) {
      this.pos++;
      return;
    }
    this.fail(`Expected a space${after ? ` after ${after}` : ''}, found ${this.describeHere()}`);
  }

  trySp(): boolean {
    return this.tryChar(SP);
  }

  expectEnd(command: string): void {
    if (!this.atEnd) this.fail(`Unexpected ${this.describeHere()} at the end of ${command}`);
  }

  /**
   * Reads the keyword `word` (case-insensitive) when it stands at the cursor as a whole token, i.e. is
   * not followed by another keyword character.
   */
  tryKeyword(word: string): boolean {
    const end = this.pos + word.length;
    if (end > this.bytes.length) return false;
    for (let i = 0; i < word.length; i++) {
      const b = this.bytes[this.pos + i]!;
      const lower = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
      const want = word.charCodeAt(i);
      const wantLower = want >= 0x41 && want <= 0x5a ? want + 0x20 : want;
      if (lower !== wantLower) return false;
    }
    const next = end < this.bytes.length ? this.bytes[end]! : -1;
    if (isKeywordChar(next)) return false;
    this.pos = end;
    return true;
  }

  expectKeyword(word: string): void {
    if (!this.tryKeyword(word)) this.fail(`Expected ${word}, found ${this.describeHere()}`);
  }

  /** Reads a run of letters, digits, '.', '-' and '=' uppercased: command names and option keywords. */
  keyword(what: string): string {
    const start = this.pos;
    while (isKeywordChar(this.peek())) this.pos++;
    if (this.pos === start) this.fail(`Expected ${what}, found ${this.describeHere()}`);
    return this.bytes.subarray(start, this.pos).toString('latin1').toUpperCase();
  }
}

function isKeywordChar(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2e ||
    b === 0x2d ||
    b === 0x3d ||
    b === 0x5f
  );
}
