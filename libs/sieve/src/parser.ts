import { SieveSyntaxError } from './errors.js';
import type { Token } from './lexer.js';
import { Lexer, positionAt } from './lexer.js';
import { validate } from './validate.js';

export type Argument =
  | { type: 'tag'; name: string; offset: number }
  | { type: 'number'; value: number; offset: number }
  | { type: 'strings'; values: string[]; offset: number };

export interface Test {
  name: string;
  args: Argument[];
  tests: Test[];
  /** The tests were written as a parenthesised test list (anyof/allof take one, if/not never). */
  testList: boolean;
  offset: number;
}

export interface Command extends Test {
  /** null for a command ended by ";" */
  block: Command[] | null;
}

export interface Script {
  commands: Command[];
  /** Extensions the script declared with `require`. */
  require: Set<string>;
}

export interface ParseLimits {
  /** Script size in UTF-8 bytes (Pigeonhole's sieve_max_script_size defaults to 1M). */
  maxScriptBytes?: number;
  /** Blocks and test nesting (anyof/not) together. */
  maxNesting?: number;
  /** Strings in one string list. */
  maxListLength?: number;
}

export const DEFAULT_LIMITS: Required<ParseLimits> = {
  maxScriptBytes: 1024 * 1024,
  maxNesting: 32,
  maxListLength: 1024,
};

class Parser {
  private token: Token;
  private depth = 0;
  constructor(
    private readonly lexer: Lexer,
    private readonly limits: Required<ParseLimits>,
  ) {
    this.token = lexer.next();
  }

  private advance(): Token {
    const current = this.token;
    this.token = this.lexer.next();
    return current;
  }

  private isSpecial(value: string): boolean {
    return this.token.type === 'special' && this.token.value === value;
  }

  private expect(value: string, what: string): void {
    if (!this.isSpecial(value)) throw this.lexer.error(`expected ${what}`, this.token.offset);
    this.advance();
  }

  private enter(offset: number): void {
    if (++this.depth > this.limits.maxNesting) throw this.lexer.error('nesting too deep', offset);
  }

  commands(inBlock: boolean): Command[] {
    const out: Command[] = [];
    while (!(this.token.type === 'end' || (inBlock && this.isSpecial('}')))) out.push(this.command());
    return out;
  }

  private command(): Command {
    const token = this.token;
    if (token.type !== 'identifier') throw this.lexer.error('expected a command', token.offset);
    this.advance();
    const { args, tests, testList } = this.arguments();
    let block: Command[] | null = null;
    if (this.isSpecial('{')) {
      this.enter(this.token.offset);
      this.advance();
      block = this.commands(true);
      this.expect('}', '"}"');
      this.depth--;
    } else this.expect(';', '";" or "{"');
    return { name: token.value, args, tests, testList, block, offset: token.offset };
  }

  private arguments(): { args: Argument[]; tests: Test[]; testList: boolean } {
    const args: Argument[] = [];
    for (;;) {
      const token = this.token;
      if (token.type === 'tag') args.push({ type: 'tag', name: token.value, offset: token.offset });
      else if (token.type === 'number')
        args.push({ type: 'number', value: token.value, offset: token.offset });
      else if (token.type === 'string')
        args.push({ type: 'strings', values: [token.value], offset: token.offset });
      else if (this.isSpecial('[')) {
        args.push({ type: 'strings', values: this.stringList(), offset: token.offset });
        continue;
      } else break;
      this.advance();
    }
    let tests: Test[] = [];
    let testList = false;
    if (this.token.type === 'identifier') tests = [this.test()];
    else if (this.isSpecial('(')) {
      testList = true;
      const open = this.token.offset;
      this.enter(open);
      this.advance();
      tests.push(this.test());
      while (this.isSpecial(',')) {
        this.advance();
        tests.push(this.test());
      }
      this.expect(')', '"," or ")"');
      this.depth--;
    }
    return { args, tests, testList };
  }

  private test(): Test {
    const token = this.token;
    if (token.type !== 'identifier') throw this.lexer.error('expected a test', token.offset);
    this.enter(token.offset);
    this.advance();
    const { args, tests, testList } = this.arguments();
    this.depth--;
    return { name: token.value, args, tests, testList, offset: token.offset };
  }

  private stringList(): string[] {
    const open = this.token.offset;
    this.advance();
    const values: string[] = [];
    for (;;) {
      const token = this.token;
      if (token.type !== 'string') throw this.lexer.error('expected a string in the list', token.offset);
      values.push(token.value);
      if (values.length > this.limits.maxListLength) throw this.lexer.error('string list too long', open);
      this.advance();
      if (this.isSpecial(']')) break;
      this.expect(',', '"," or "]"');
    }
    this.advance();
    return values;
  }
}

/**
 * Parses and validates a script (RFC 5228 section 8 grammar, section 3.2 `require`). Throws
 * SieveSyntaxError with line and column for anything that would not run; nothing else.
 */
export function parseScript(source: string, limits: ParseLimits = {}): Script {
  const effective = { ...DEFAULT_LIMITS, ...limits };
  if (Buffer.byteLength(source, 'utf8') > effective.maxScriptBytes) {
    throw new SieveSyntaxError(`script larger than ${effective.maxScriptBytes} bytes`, {
      line: 1,
      column: 1,
    });
  }
  const lexer = new Lexer(source);
  const commands = new Parser(lexer, effective).commands(false);
  const require = validate(
    commands,
    (message, offset) => new SieveSyntaxError(message, positionAt(source, offset)),
  );
  return { commands, require };
}
