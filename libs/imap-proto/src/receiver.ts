import { ParseError } from './errors.js';
import { peekTag } from './parse/index.js';

export interface ReceiverOptions {
  /** Longest line (without its literals) accepted; default 64 KiB. */
  maxLineLength?: number;
  /** Largest single literal; default 64 MiB (tie it to APPENDLIMIT). */
  maxLiteralSize?: number;
  /**
   * Largest non-synchronizing literal {n+}: Infinity for LITERAL+ (RFC 7888), 4096 for LITERAL-.
   * Default Infinity.
   */
  maxNonSyncLiteral?: number;
  /** Largest whole command, lines and literals together (MULTIAPPEND); default maxLiteralSize + 1 MiB. */
  maxCommandSize?: number;
  /**
   * Asked before a literal within the limits is taken: false refuses it as 'server-busy' (the server's
   * memory for literals of all connections is spent). Default: always taken.
   */
  admitLiteral?: (size: number) => boolean;
  /**
   * Asked before a literal within the limits is taken, with the command's first line (its tag and
   * name): a sink takes the octets as they arrive instead of the command holding them
   * (APPEND bodies go to the blob store). In the command the literal then reads as empty ({0}), and
   * the command event lists the sinks in order. Null: the literal is held as usual.
   */
  streamLiteral?: (firstLine: Buffer, size: number) => LiteralSink | null;
}

/** Where a streamed literal's octets go. Pure interface: the server implements it (no I/O here). */
export interface LiteralSink {
  write(chunk: Buffer): void;
  /** All octets were written. */
  end(): void;
  /** The command was refused or the connection lost before the literal was complete or used. */
  abort(): void;
}

export type FrameErrorKind = 'line-too-long' | 'literal-too-big' | 'command-too-big' | 'server-busy';

/**
 * The client broke a framing limit; answer `<tag> BAD [TOOBIG] <message>` (or `* BAD` without a tag).
 * 'server-busy' (no room for the literal now, try later) answers `BAD [LIMIT]`.
 */
export class FrameError extends ParseError {
  constructor(
    readonly kind: FrameErrorKind,
    message: string,
    tag: string | null,
  ) {
    super(message, tag, kind === 'server-busy' ? 'LIMIT' : 'TOOBIG');
  }
}

export type ReceiverEvent =
  /**
   * One complete command: its lines joined by CRLF with the literals inline, the final CRLF removed.
   * `streamed`: the sinks of its streamed literals, in order (each reads as {0} in `bytes`).
   */
  | { type: 'command'; bytes: Buffer; streamed: LiteralSink[] }
  /** The client announced a synchronizing literal and waits: send "+ " before it sends `size` octets. */
  | { type: 'continue'; size: number }
  /** A raw line asked for with expectLine() (an AUTHENTICATE response or IDLE's DONE), without CRLF. */
  | { type: 'line'; bytes: Buffer }
  /** A limit was broken; the rest of that command is skipped. */
  | { type: 'error'; error: FrameError };

interface LiteralHeader {
  size: number;
  nonSync: boolean;
}

type State =
  | { name: 'line' }
  | { name: 'literal'; remaining: number }
  /** A streamed literal: its octets go to the sink, not into the command. */
  | { name: 'stream'; remaining: number; sink: LiteralSink }
  /** A refused non-synchronizing literal is still on its way: swallow it, then the rest of its command. */
  | { name: 'skip-literal'; remaining: number }
  /** Swallow up to the end of the current line (a line past the length limit). */
  | { name: 'skip-line' };

const CRLF = Buffer.from('\r\n');
const MAX_LITERAL_DIGITS = 15;

/** Reads "{n}", "{n+}", "~{n}" or "~{n+}" ending a line; null when the line does not end in one. */
/** Octets of a skipped line kept back: enough for a literal header `{<20 digits>+}` ending it. */
const SKIP_TAIL = 24;

export function literalAtLineEnd(line: Buffer): LiteralHeader | null {
  let i = line.length - 1;
  if (i < 0 || line[i] !== 0x7d) return null;
  i--;
  const nonSync = line[i] === 0x2b;
  if (nonSync) i--;
  const digitsEnd = i + 1;
  while (i >= 0 && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  const digits = digitsEnd - (i + 1);
  if (digits === 0 || i < 0 || line[i] !== 0x7b) return null;
  if (digits > MAX_LITERAL_DIGITS) return { size: Infinity, nonSync };
  return { size: Number(line.subarray(i + 1, digitsEnd).toString('latin1')), nonSync };
}

/**
 * Turns the bytes a client sends into complete commands (RFC 9051 section 2.2, literals of RFC 7888 and
 * RFC 3516). Pull-based, so the session can switch to raw lines between two events: push() the bytes
 * that arrived, then call next() until it returns null.
 */
export class CommandReceiver {
  private maxLineLength!: number;
  private maxLiteralSize!: number;
  private maxNonSyncLiteral!: number;
  private maxCommandSize!: number;
  private admitLiteral: ((size: number) => boolean) | undefined;
  private streamLiteral: ((firstLine: Buffer, size: number) => LiteralSink | null) | undefined;
  /** Sinks of the command being received. */
  private sinks: LiteralSink[] = [];

  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes at the start of `buffer` already searched for LF. */
  private scanned = 0;
  private parts: Buffer[] = [];
  private commandSize = 0;
  private state: State = { name: 'line' };
  private lineWanted = false;

  constructor(options: ReceiverOptions = {}) {
    this.setLimits(options);
  }

  /**
   * New limits from the next line on, e.g. after login: before it, a server takes only small literals
   * (LITERAL-), so an unauthenticated client cannot make it hold megabytes.
   */
  setLimits(options: ReceiverOptions): void {
    this.maxLineLength = options.maxLineLength ?? 64 * 1024;
    this.maxLiteralSize = options.maxLiteralSize ?? 64 * 1024 * 1024;
    this.maxNonSyncLiteral = options.maxNonSyncLiteral ?? Infinity;
    this.maxCommandSize = options.maxCommandSize ?? this.maxLiteralSize + 1024 * 1024;
    this.admitLiteral = options.admitLiteral;
    this.streamLiteral = options.streamLiteral;
  }

  /** The connection is gone: sinks of an incomplete command are aborted. */
  abandon(): void {
    for (const sink of this.sinks.splice(0)) sink.abort();
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next line is taken raw (no literal, no tag): for AUTHENTICATE exchanges and IDLE's DONE. */
  expectLine(): void {
    this.lineWanted = true;
  }

  /** Octets of a literal are on their way (taken or skipped): the time a slow sender can stretch. */
  get inLiteral(): boolean {
    return (
      this.state.name === 'literal' || this.state.name === 'stream' || this.state.name === 'skip-literal'
    );
  }

  /** A refused non-synchronizing literal is being swallowed: its octets follow whatever we answer. */
  get skippingLiteral(): boolean {
    return this.state.name === 'skip-literal';
  }

  /** True between commands: nothing of a command is held (used to refuse pipelining around STARTTLS). */
  get idle(): boolean {
    return this.buffer.length === 0 && this.parts.length === 0 && this.state.name === 'line';
  }

  next(): ReceiverEvent | null {
    for (;;) {
      switch (this.state.name) {
        case 'literal': {
          const take = Math.min(this.state.remaining, this.buffer.length);
          if (take === 0) return null;
          this.parts.push(this.buffer.subarray(0, take));
          this.consume(take);
          this.state.remaining -= take;
          if (this.state.remaining === 0) this.state = { name: 'line' };
          continue;
        }
        case 'stream': {
          const take = Math.min(this.state.remaining, this.buffer.length);
          if (take === 0) return null;
          this.state.sink.write(this.buffer.subarray(0, take));
          this.consume(take);
          this.state.remaining -= take;
          if (this.state.remaining === 0) {
            this.state.sink.end();
            this.state = { name: 'line' };
          }
          continue;
        }
        case 'skip-literal': {
          const take = Math.min(this.state.remaining, this.buffer.length);
          if (take === 0) return null;
          this.consume(take);
          this.state.remaining -= take;
          // The rest of the refused command follows the literal: skip that line as well.
          if (this.state.remaining === 0) this.state = { name: 'skip-line' };
          continue;
        }
        case 'skip-line': {
          const lf = this.buffer.indexOf(0x0a, this.scanned);
          if (lf < 0) {
            // Keep a short tail: it may be the start of a literal header ending the skipped line.
            const keep = Math.min(this.buffer.length, SKIP_TAIL);
            this.buffer = this.buffer.subarray(this.buffer.length - keep);
            this.scanned = this.buffer.length;
            return null;
          }
          const literal = literalAtLineEnd(stripCr(this.buffer.subarray(0, lf)));
          this.consume(lf + 1);
          this.state =
            literal && literal.nonSync ? { name: 'skip-literal', remaining: literal.size } : { name: 'line' };
          if (this.state.name === 'skip-literal' && !Number.isFinite(this.state.remaining)) {
            // An absurd length cannot be skipped reliably; stay in line mode and let parsing reject what follows.
            this.state = { name: 'line' };
          }
          continue;
        }
        case 'line': {
          const event = this.readLine();
          if (event === 'more') return null;
          if (event) return event;
          continue;
        }
      }
    }
  }

  /** One line in line state: an event, 'more' when the line is incomplete, or null to go on reading. */
  private readLine(): ReceiverEvent | 'more' | null {
    const lf = this.buffer.indexOf(0x0a, this.scanned);
    if (lf < 0) {
      // A CR last in the chunk may be the line's own end, which the limit does not count (stripCr).
      const pending = this.buffer.length - (this.buffer[this.buffer.length - 1] === 0x0d ? 1 : 0);
      if (pending > this.maxLineLength) {
        const error = this.fail('line-too-long', `Line is longer than ${this.maxLineLength} octets`);
        // Keep the tail as skip-line does: the line may end in a literal header cut by this chunk
        // ("{3" here, "+}" in the next), whose octets must be skipped too, however TCP split them.
        this.buffer = this.buffer.subarray(this.buffer.length - SKIP_TAIL);
        this.scanned = this.buffer.length;
        this.state = { name: 'skip-line' };
        return error;
      }
      this.scanned = this.buffer.length;
      return 'more';
    }
    const line = stripCr(this.buffer.subarray(0, lf));
    this.consume(lf + 1);
    if (this.lineWanted && this.parts.length === 0) {
      this.lineWanted = false;
      return { type: 'line', bytes: line };
    }
    const literal = literalAtLineEnd(line);
    if (line.length > this.maxLineLength) {
      const error = this.fail('line-too-long', `Line is longer than ${this.maxLineLength} octets`, line);
      if (literal?.nonSync && Number.isFinite(literal.size)) {
        this.state = { name: 'skip-literal', remaining: literal.size };
      }
      return error;
    }
    this.commandSize += line.length + 2;
    if (!literal) {
      this.parts.push(line);
      const bytes = this.parts.length === 1 ? line : Buffer.concat(this.parts);
      if (this.commandSize > this.maxCommandSize)
        return this.fail('command-too-big', this.commandTooBig(), bytes);
      const streamed = this.sinks;
      this.sinks = [];
      this.reset();
      return { type: 'command', bytes, streamed };
    }
    let error: ReceiverEvent | null = null;
    if (literal.nonSync && literal.size > this.maxNonSyncLiteral) {
      error = this.fail(
        'literal-too-big',
        `Non-synchronizing literals are limited to ${this.maxNonSyncLiteral} octets (LITERAL-)`,
        line,
      );
    } else if (literal.size > this.maxLiteralSize) {
      error = this.fail('literal-too-big', `Literal is larger than ${this.maxLiteralSize} octets`, line);
    } else if (this.commandSize + literal.size > this.maxCommandSize) {
      error = this.fail('command-too-big', this.commandTooBig(), line);
    }
    const sink =
      !error && literal.size > 0 && this.streamLiteral
        ? this.streamLiteral(this.parts[0] ?? line, literal.size)
        : null;
    if (!error && !sink && literal.size > 0 && this.admitLiteral && !this.admitLiteral(literal.size)) {
      error = this.fail('server-busy', 'The server is busy with other literals, try again later', line);
    }
    if (error) {
      this.reset();
      // A client that sent {n+} sends the octets anyway; one that sent {n} waits for "+" and gets BAD instead.
      if (literal.nonSync && Number.isFinite(literal.size)) {
        this.state = { name: 'skip-literal', remaining: literal.size };
      }
      return error;
    }
    this.commandSize += literal.size;
    if (sink) {
      this.sinks.push(sink);
      this.parts.push(emptyLiteral(line), CRLF);
      this.state = { name: 'stream', remaining: literal.size, sink };
    } else {
      this.parts.push(line, CRLF);
      this.state = { name: 'literal', remaining: literal.size };
      if (literal.size === 0) this.state = { name: 'line' };
    }
    return literal.nonSync ? null : { type: 'continue', size: literal.size };
  }

  private commandTooBig(): string {
    return `Command is larger than ${this.maxCommandSize} octets`;
  }

  private fail(kind: FrameErrorKind, message: string, line?: Buffer): ReceiverEvent {
    const first = this.parts[0] ?? line ?? this.buffer;
    const error = new FrameError(kind, message, this.tagOf(first));
    this.abandon();
    this.reset();
    return { type: 'error', error };
  }

  /**
   * The tag of a refused line, read only from its first maxLineLength octets and only when a space ends
   * it there: the reply then carries the same tag however TCP split the line (an over-long line may have
   * arrived whole or been cut mid-tag), and never echoes more than a line's worth of client bytes.
   */
  private tagOf(line: Buffer): string | null {
    if (line.length <= this.maxLineLength) return peekTag(line);
    const tag = peekTag(line.subarray(0, this.maxLineLength));
    return tag !== null && line[tag.length] === 0x20 ? tag : null;
  }

  private reset(): void {
    this.parts = [];
    this.commandSize = 0;
  }

  private consume(count: number): void {
    this.buffer = this.buffer.subarray(count);
    this.scanned = 0;
  }
}

/** The line with its ending literal header ("{n}", "{n+}", "~{n}") turned into "{0}" ("~{0}"). */
function emptyLiteral(line: Buffer): Buffer {
  const open = line.lastIndexOf(0x7b);
  return Buffer.concat([line.subarray(0, open), Buffer.from('{0}')]);
}

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}
