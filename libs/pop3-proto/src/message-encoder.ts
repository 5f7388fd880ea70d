const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF_BYTES = Buffer.from('\r\n');
const TERMINATOR_BYTES = Buffer.from('.\r\n');

export interface MessageEncoderOptions {
  /**
   * TOP: the header, the blank line, then at most this many body lines. Omitted: the whole message
   * (RETR).
   */
  bodyLines?: number;
}

/**
 * Turns a stored message into the body of a RETR or TOP reply, chunk by chunk: every bare LF or bare
 * CR becomes CRLF, a last line without a line end gets one, lines beginning with "." are dot-stuffed,
 * and end() adds the terminating ".".
 *
 * `octets` counts what is sent before dot-stuffing and without the terminator, which is exactly the
 * size LIST and STAT must report (RFC 1939 5, 11): computing sizes with this same encoder keeps the two
 * equal whatever line ends the blob holds. Written by hand: a byte-level state machine across chunk
 * boundaries that no maintained package offers.
 */
export class MessageEncoder {
  octets = 0;
  private atLineStart = true;
  private lineEmpty = true;
  private pendingCr = false;
  private inBody = false;
  private bodyLinesLeft: number;
  private finished = false;

  constructor(options: MessageEncoderOptions = {}) {
    this.bodyLinesLeft = options.bodyLines ?? Number.POSITIVE_INFINITY;
  }

  /** True once TOP's line budget is spent: the rest of the blob need not be read. */
  get done(): boolean {
    return this.finished;
  }

  push(chunk: Uint8Array): Buffer {
    // Each input byte yields at most two output bytes, plus the line end a CR left pending.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let length = 0;
    for (let i = 0; i < chunk.length && !this.finished; i++) {
      const byte = chunk[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        length = this.endLine(out, length);
        if (byte === LF || this.finished) continue;
      }
      if (byte === CR) {
        this.pendingCr = true;
      } else if (byte === LF) {
        length = this.endLine(out, length);
      } else {
        if (this.atLineStart && byte === DOT) out[length++] = DOT;
        this.atLineStart = false;
        this.lineEmpty = false;
        out[length++] = byte;
        this.octets++;
      }
    }
    return out.subarray(0, length);
  }

  /** The line end the message may still owe, then the terminator. */
  end(): Buffer {
    const owesLineEnd = !this.finished && (this.pendingCr || !this.lineEmpty);
    this.pendingCr = false;
    if (!owesLineEnd) return TERMINATOR_BYTES;
    this.octets += 2;
    return Buffer.concat([CRLF_BYTES, TERMINATOR_BYTES]);
  }

  private endLine(out: Buffer, length: number): number {
    out[length] = CR;
    out[length + 1] = LF;
    this.octets += 2;
    if (!this.inBody) {
      // The first empty line ends the header (RFC 5322 2.1); TOP counts body lines after it.
      if (this.lineEmpty) {
        this.inBody = true;
        if (this.bodyLinesLeft <= 0) this.finished = true;
      }
    } else if (--this.bodyLinesLeft <= 0) {
      this.finished = true;
    }
    this.atLineStart = true;
    this.lineEmpty = true;
    return length + 2;
  }
}

/** The size LIST and STAT report for a message: the octets RETR will send before dot-stuffing. */
export async function countWireOctets(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<number> {
  const encoder = new MessageEncoder();
  for await (const chunk of chunks) encoder.push(chunk);
  encoder.end();
  return encoder.octets;
}
