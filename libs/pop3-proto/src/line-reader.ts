const LF = 0x0a;
const CR = 0x0d;

export type InputLine =
  /** One command line without its line end (CRLF or bare LF). */
  | { kind: 'line'; line: Buffer }
  /** A line longer than the limit was discarded up to its line end. */
  | { kind: 'too-long' };

/**
 * Splits the client's bytes into command lines while holding at most `maxLength` bytes of an
 * unfinished line: a longer line is dropped as it streams in and reported once its line end arrives,
 * so a client can never make the server buffer without bound.
 */
export class LineReader {
  private parts: Buffer[] = [];
  private length = 0;
  private discarding = false;

  constructor(readonly maxLength: number) {}

  push(chunk: Buffer): InputLine[] {
    const lines: InputLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      if (!this.discarding) {
        const piece = chunk.subarray(start, end);
        this.parts.push(piece);
        this.length += piece.length;
        // A CR right before the LF is part of the line end, not of the line.
        const limit = lf === -1 ? this.maxLength + 1 : this.maxLength + (this.endsWithCr() ? 1 : 0);
        if (this.length > limit) this.drop();
      }
      if (lf === -1) break;
      lines.push(this.finishLine());
      start = lf + 1;
    }
    return lines;
  }

  /** Forgets any unfinished line (after STLS nothing sent in plaintext may be carried over). */
  reset(): void {
    this.parts = [];
    this.length = 0;
    this.discarding = false;
  }

  private endsWithCr(): boolean {
    for (let i = this.parts.length - 1; i >= 0; i--) {
      const part = this.parts[i]!;
      if (part.length > 0) return part[part.length - 1] === CR;
    }
    return false;
  }

  private drop(): void {
    this.parts = [];
    this.length = 0;
    this.discarding = true;
  }

  private finishLine(): InputLine {
    if (this.discarding) {
      this.discarding = false;
      return { kind: 'too-long' };
    }
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.parts = [];
    this.length = 0;
    return { kind: 'line', line: Buffer.from(line) };
  }
}
