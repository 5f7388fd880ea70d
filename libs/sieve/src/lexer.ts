import type { Position } from './errors.js';
import { SieveSyntaxError } from './errors.js';

/** RFC 5228 section 8.1 lexical tokens. */
export type Token =
  | { type: 'identifier'; value: string; offset: number }
  | { type: 'tag'; value: string; offset: number }
  | { type: 'number'; value: number; offset: number }
  | { type: 'string'; value: string; offset: number }
  | { type: 'special'; value: '[' | ']' | '(' | ')' | '{' | '}' | ',' | ';'; offset: number }
  | { type: 'end'; offset: number };

const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** 1-based line and column of an offset, computed only when an error needs it. */
export function positionAt(source: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Splits a script into tokens. By hand: the grammar is small, and `text:` multi-line strings with
 * dot-stuffing and comment-after-`text:` do not fit a generic tokenizer.
 */
export class Lexer {
  private offset = 0;
  /** `#` comments met so far, when the caller asked for them (hashComments). */
  readonly comments: { offset: number; end: number; text: string }[] | null;
  constructor(
    private readonly source: string,
    options: { comments?: boolean } = {},
  ) {
    this.comments = options.comments ? [] : null;
  }

  error(message: string, offset: number): SieveSyntaxError {
    return new SieveSyntaxError(message, positionAt(this.source, offset));
  }

  next(): Token {
    this.skipWhitespaceAndComments();
    const s = this.source;
    const start = this.offset;
    if (start >= s.length) return { type: 'end', offset: start };
    const c = s[start]!;
    if ('[](){},;'.includes(c)) {
      this.offset++;
      return { type: 'special', value: c as '[', offset: start };
    }
    if (c === '"') return this.quoted(start);
    if (c === ':') {
      this.offset++;
      const name = this.identifier();
      if (!name) throw this.error('expected a tag name after ":"', start);
      return { type: 'tag', value: name.toLowerCase(), offset: start };
    }
    if (isDigit(c)) {
      let end = start;
      while (end < s.length && isDigit(s[end]!)) end++;
      let value = Number(s.slice(start, end));
      const quantifier = QUANTIFIERS[(s[end] ?? '').toLowerCase()];
      if (quantifier !== undefined) {
        value *= quantifier;
        end++;
      }
      if (!Number.isSafeInteger(value)) throw this.error('number too large', start);
      this.offset = end;
      return { type: 'number', value, offset: start };
    }
    if (isAlpha(c)) {
      const name = this.identifier();
      if (name.toLowerCase() === 'text' && s[this.offset] === ':') {
        this.offset++;
        return this.multiline(start);
      }
      return { type: 'identifier', value: name.toLowerCase(), offset: start };
    }
    throw this.error(`unexpected character ${JSON.stringify(c)}`, start);
  }

  private identifier(): string {
    const s = this.source;
    const start = this.offset;
    if (start >= s.length || !isAlpha(s[start]!)) return '';
    let end = start + 1;
    while (end < s.length && (isAlpha(s[end]!) || isDigit(s[end]!))) end++;
    this.offset = end;
    return s.slice(start, end);
  }

  private skipWhitespaceAndComments(): void {
    const s = this.source;
    while (this.offset < s.length) {
      const c = s[this.offset]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.offset++;
      else if (c === '#') {
        const end = s.indexOf('\n', this.offset);
        const next = end < 0 ? s.length : end + 1;
        this.comments?.push({
          offset: this.offset,
          end: next,
          text: s.slice(this.offset, end < 0 ? s.length : end),
        });
        this.offset = next;
      } else if (c === '/' && s[this.offset + 1] === '*') {
        const end = s.indexOf('*/', this.offset + 2);
        if (end < 0) throw this.error('unterminated /* comment', this.offset);
        this.offset = end + 2;
      } else return;
    }
  }

  /** RFC 5228 2.4.2: `\"` and `\\` stand for themselves; any other backslash is dropped. */
  private quoted(start: number): Token {
    const s = this.source;
    let value = '';
    let i = start + 1;
    for (;;) {
      if (i >= s.length) throw this.error('unterminated quoted string', start);
      const c = s[i]!;
      if (c === '"') break;
      if (c === '\\') {
        if (i + 1 >= s.length) throw this.error('unterminated quoted string', start);
        value += s[i + 1];
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    this.offset = i + 1;
    return { type: 'string', value, offset: start };
  }

  /**
   * `text:` [spaces] (hash-comment / CRLF), then lines up to a lone ".": a leading ".." stands
   * for "." (dot-stuffing, RFC 5228 2.4.2). Bare LF is accepted as a line end as Pigeonhole does.
   */
  private multiline(start: number): Token {
    const s = this.source;
    let i = this.offset;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === '#') {
      const end = s.indexOf('\n', i);
      if (end < 0) throw this.error('unterminated multi-line string', start);
      i = end + 1;
    } else if (s[i] === '\r' && s[i + 1] === '\n') i += 2;
    else if (s[i] === '\n') i++;
    else throw this.error('expected a line break after "text:"', i);
    const lines: string[] = [];
    for (;;) {
      if (i >= s.length) throw this.error('unterminated multi-line string', start);
      const end = s.indexOf('\n', i);
      const lineEnd = end < 0 ? s.length : end;
      let line = s.slice(i, lineEnd);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (end < 0 && line !== '.') throw this.error('unterminated multi-line string', start);
      i = end < 0 ? s.length : end + 1;
      if (line === '.') break;
      lines.push(line.startsWith('.') ? line.slice(1) : line);
    }
    this.offset = i;
    return { type: 'string', value: lines.map((l) => `${l}\r\n`).join(''), offset: start };
  }
}

/**
 * The `#` comments of a script as the lexer sees them (never text inside a string or a `text:` block),
 * each with its offset and the offset after its line break. Throws SieveSyntaxError where it cannot lex.
 */
export function hashComments(source: string): { offset: number; end: number; text: string }[] {
  const lexer = new Lexer(source, { comments: true });
  while (lexer.next().type !== 'end');
  return lexer.comments!;
}
