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
    // A message starting with an empty line has no header fields at all.
    const end = this.held[0] === 0x0d && this.held[1] === 0x0a ? 0 : this.held.indexOf(BLANK_LINE);
    if (end === -1) {
      if (this.held.length > this.options.maxHeaderBytes) {
        return callback(new HeaderTooLargeError(this.options.maxHeaderBytes));
      }
      return callback();
    }
    const headerEnd = end === 0 ? 0 : end + 2;
    if (headerEnd > this.options.maxHeaderBytes)
      return callback(new HeaderTooLargeError(this.options.maxHeaderBytes));
    this.checkThenRelease(headerEnd, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.passing) {
      // Headers only, no body: the whole message is the header block.
      if (this.held.length > 0 && !this.held.subarray(-2).equals(Buffer.from('\r\n'))) {
        this.held = Buffer.concat([this.held, Buffer.from('\r\n')]);
      }
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
    let header = this.held.subarray(0, headerEnd);
    if (this.options.rewrite) header = Buffer.from(this.options.rewrite(header.toString('latin1')), 'latin1');
    this.push(header);
    const added = this.options.complete(header.toString('latin1'));
    if (added) this.push(Buffer.from(added, 'utf8'));
    if (headerEnd < this.held.length) this.push(this.held.subarray(headerEnd));
    this.held = Buffer.alloc(0);
    this.passing = true;
  }
}

/** Header lines a submission must carry (RFC 5322 3.6: Date and, for us, Message-ID) that `header` lacks. */
export function missingSubmissionHeaders(header: string, messageId: string, date: string): string {
  let added = '';
  if (!/^message-id[ \t]*:/im.test(header)) added += `Message-ID: <${messageId}>\r\n`;
  if (!/^date[ \t]*:/im.test(header)) added += `Date: ${date}\r\n`;
  return added;
}
