import { Transform, type TransformCallback } from 'node:stream';

export class LineTooLongError extends Error {
  constructor(readonly maxLength: number) {
    super(`message line longer than ${maxLength} bytes`);
    this.name = 'LineTooLongError';
  }
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Rewrites every bare LF and bare CR in the message to CRLF and enforces the line length.
 *
 * smtp-server already ends DATA only on <CRLF>.<CRLF>, so `<LF>.<LF>` cannot end a message here; but a
 * bare-LF line holding "." stored as is could end it early at a less strict MTA downstream (SMTP
 * smuggling through our relay). Stored messages therefore only ever contain CRLF line ends, which any
 * SMTP client dot-stuffs correctly. Written by hand: a byte-level state machine across chunk
 * boundaries that no maintained package offers as a stream.
 */
export class LineEndingGuard extends Transform {
  private pendingCr = false;
  private lineLength = 0;

  constructor(private readonly maxLineLength: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // A CR held back from the previous chunk has to be written out, which the copy-free path cannot do.
    const clean = this.pendingCr ? false : this.scan(chunk);
    if (clean === 'too-long') return callback(new LineTooLongError(this.maxLineLength));
    // Nearly every chunk only has CRLF line ends: it goes on as it is, without a copy. A CR at its very
    // end is held back (pendingCr) until the next byte shows whether it is a bare CR.
    if (clean) return callback(null, this.pendingCr ? chunk.subarray(0, -1) : chunk);
    this.rewrite(chunk, callback);
  }

  /** Checks a chunk without copying it: true when it needs no rewriting (and advances the state). */
  private scan(chunk: Buffer): boolean | 'too-long' {
    let pendingCr = this.pendingCr;
    let lineLength = this.lineLength;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (pendingCr) {
        if (byte !== LF) return false;
        pendingCr = false;
        lineLength = 0;
      } else if (byte === CR) {
        pendingCr = true;
      } else if (byte === LF) {
        return false;
      } else if (++lineLength > this.maxLineLength) {
        return 'too-long';
      }
    }
    this.pendingCr = pendingCr;
    this.lineLength = lineLength;
    return true;
  }

  private rewrite(chunk: Buffer, callback: TransformCallback): void {
    // Worst case every byte is a bare line end that grows into two.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let length = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        out[length++] = CR;
        out[length++] = LF;
        this.lineLength = 0;
        if (byte === LF) continue;
      }
      if (byte === CR) {
        this.pendingCr = true;
      } else if (byte === LF) {
        out[length++] = CR;
        out[length++] = LF;
        this.lineLength = 0;
      } else {
        out[length++] = byte;
        if (++this.lineLength > this.maxLineLength) return callback(new LineTooLongError(this.maxLineLength));
      }
    }
    callback(null, out.subarray(0, length));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingCr ? Buffer.from('\r\n') : undefined);
  }
}
