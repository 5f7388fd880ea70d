import { Transform, type TransformCallback } from 'node:stream';

export class HeaderTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`message header exceeds ${maxBytes} bytes`);
    this.name = 'HeaderTooLargeError';
  }
}

export interface HeaderBlockOptions {
  /** Written before the message (the Received header). */
  prepend: string;
  /** Given the header block (latin1 text), returns header lines to append to it, or ''. */
  complete: (headerBlock: string) => string;
  /** Given the header block (latin1 text), returns it with fields removed; unset: kept as received. */
  rewrite?: (headerBlock: string) => string;
  /**
   * Given the header block as received, resolves to let the message through or rejects to refuse it
   * (the rejection becomes the stream's error); runs before anything of the message is passed on.
   */
  check?: (headerBlock: Buffer) => Promise<void>;
  maxHeaderBytes: number;
}

const BLANK_LINE = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * Holds back only the header block (at most maxHeaderBytes), lets `complete` add what is missing, then
 * passes the body through untouched. Expects CRLF line ends (LineEndingGuard runs first).
 */
export class HeaderBlockRewriter extends Transform {
  private held: Buffer = Buffer.alloc(0);
  private passing = false;

  constructor(private readonly options: HeaderBlockOptions) {
    super();
    this.push(Buffer.from(options.prepend, 'latin1'));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.passing) return callback(null, chunk);
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const headerEnd = headerBlockEnd(this.held);
    if (headerEnd === -1) {
      if (this.held.length > this.options.maxHeaderBytes) {
        return callback(new HeaderTooLargeError(this.options.maxHeaderBytes));
      }
      return callback();
    }
    if (headerEnd > this.options.maxHeaderBytes)
      return callback(new HeaderTooLargeError(this.options.maxHeaderBytes));
    this.checkThenRelease(headerEnd, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.passing) {
      this.held = headersOnly(this.held);
      return this.checkThenRelease(this.held.length, callback);
    }
    callback();
  }

  private checkThenRelease(headerEnd: number, callback: TransformCallback): void {
    if (!this.options.check) {
      this.release(headerEnd);
      return callback();
    }
    this.options.check(this.held.subarray(0, headerEnd)).then(
      () => {
        this.release(headerEnd);
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }

  private release(headerEnd: number): void {
    for (const part of releasedHeader(this.held.subarray(0, headerEnd), this.options)) this.push(part);
    if (headerEnd < this.held.length) this.push(this.held.subarray(headerEnd));
    this.held = Buffer.alloc(0);
    this.passing = true;
  }
}

/**
 * HeaderBlockRewriter's output for a message held whole in memory (without `check`), as one Buffer:
 * the MX intake's spool holds most messages whole, and one copy of them with our header fields in
 * front is the Buffer the event carries (docs/performance.md, "Fifth round"), where the stream
 * copied them chunk by chunk through a Transform.
 */
export function rewriteHeaderBlock(message: Buffer, options: Omit<HeaderBlockOptions, 'check'>): Buffer {
  let headerEnd = headerBlockEnd(message);
  if (headerEnd === -1) {
    if (message.length > options.maxHeaderBytes) throw new HeaderTooLargeError(options.maxHeaderBytes);
    message = headersOnly(message);
    headerEnd = message.length;
  }
  if (headerEnd > options.maxHeaderBytes) throw new HeaderTooLargeError(options.maxHeaderBytes);
  const parts = [
    Buffer.from(options.prepend, 'latin1'),
    ...releasedHeader(message.subarray(0, headerEnd), options),
  ];
  if (headerEnd < message.length) parts.push(message.subarray(headerEnd));
  return Buffer.concat(parts);
}

/** The offset after the header block's last CRLF (0: no header fields at all), or -1: not seen yet. */
function headerBlockEnd(held: Buffer): number {
  // A message starting with an empty line has no header fields at all.
  if (held[0] === 0x0d && held[1] === 0x0a) return 0;
  const end = held.indexOf(BLANK_LINE);
  return end === -1 ? -1 : end + 2;
}

/** Headers only, no body: the whole message is the header block, ended by a CRLF. */
function headersOnly(held: Buffer): Buffer {
  return held.length > 0 && !held.subarray(-2).equals(CRLF) ? Buffer.concat([held, CRLF]) : held;
}

/** The header block as it goes on (rewritten), then what `complete` adds to it. */
function releasedHeader(header: Buffer, options: Omit<HeaderBlockOptions, 'check'>): Buffer[] {
  if (options.rewrite) header = Buffer.from(options.rewrite(header.toString('latin1')), 'latin1');
  const added = options.complete(header.toString('latin1'));
  return added ? [header, Buffer.from(added, 'utf8')] : [header];
}

/** Header lines a submission must carry (RFC 5322 3.6: Date and, for us, Message-ID) that `header` lacks. */
export function missingSubmissionHeaders(header: string, messageId: string, date: string): string {
  let added = '';
  if (!/^message-id[ \t]*:/im.test(header)) added += `Message-ID: <${messageId}>\r\n`;
  if (!/^date[ \t]*:/im.test(header)) added += `Date: ${date}\r\n`;
  return added;
}
