import { decodeTextBody } from './body-decode.js';
import { partFilename } from './content-headers.js';
import { htmlToSearchText } from './html-text.js';
import type { ScannedPart } from './part-scanner.js';

interface Capture {
  html: boolean;
  chunks: Buffer[];
  length: number;
  /**
   * The lines taken since the last copy, while each follows the one before in the same input chunk
   * (the scanner hands over one view per line): copied into `chunks` once per run, not once per
   * line (a Buffer per line of every message was a good part of the analysis's allocations); still
   * a copy, made at the latest when the chunk has been written (chunkDone), so nothing pins or
   * depends on the caller's chunk after write() returns.
   */
  run: { bytes: ArrayBufferLike; start: number; end: number } | undefined;
}

// Encoded bytes kept per kind of text, as a multiple of the character limit: base64 is 4/3 and
// quoted-printable up to 3 bytes per octet, and one character may take 4 octets.
const RAW_FACTOR = 4;

/** Copies the open run of lines into the capture's chunks. */
function keepRun(capture: Capture): void {
  const run = capture.run;
  if (!run) return;
  capture.chunks.push(Buffer.from(Buffer.from(run.bytes, run.start, run.end - run.start)));
  capture.run = undefined;
}

/**
 * Builds the search text while the body streams by: only inline text/plain and text/html bodies are
 * kept (encoded, up to a byte budget), decoded when each ends, and HTML only counts when the message
 * has no plain text at all. Attachment filenames are added so a search for "invoice.pdf" finds them.
 */
export class SearchTextCollector {
  private readonly captures = new Map<ScannedPart, Capture>();
  private readonly plain: string[] = [];
  private readonly html: string[] = [];
  private readonly filenames: string[] = [];
  private plainLength = 0;
  private htmlLength = 0;
  private plainBudget: number;
  private htmlBudget: number;
  private cut = false;

  constructor(private readonly limit: number) {
    this.plainBudget = limit * RAW_FACTOR;
    this.htmlBudget = limit * RAW_FACTOR;
  }

  headersDone(part: ScannedPart): void {
    if (part.kind !== 'leaf') return;
    const c = part.content;
    const name = partFilename(c);
    if (name) this.filenames.push(name);
    if (c.type !== 'text' || (c.subtype !== 'plain' && c.subtype !== 'html')) return;
    if (c.disposition?.type === 'attachment') return;
    this.captures.set(part, { html: c.subtype === 'html', chunks: [], length: 0, run: undefined });
  }

  body(part: ScannedPart, bytes: Buffer): void {
    const capture = this.captures.get(part);
    if (!capture) return;
    const budget = capture.html ? this.htmlBudget : this.plainBudget;
    if (budget <= 0) {
      this.cut = true;
      return;
    }
    const take = bytes.length <= budget ? bytes : bytes.subarray(0, budget);
    if (take.length < bytes.length) this.cut = true;
    const run = capture.run;
    if (run && run.bytes === take.buffer && run.end === take.byteOffset) {
      run.end += take.length;
    } else {
      keepRun(capture);
      capture.run = { bytes: take.buffer, start: take.byteOffset, end: take.byteOffset + take.length };
    }
    capture.length += take.length;
    if (capture.html) this.htmlBudget -= take.length;
    else this.plainBudget -= take.length;
  }

  /** The input chunk has been scanned: what is taken of it is copied now. */
  chunkDone(): void {
    for (const capture of this.captures.values()) keepRun(capture);
  }

  partEnd(part: ScannedPart): void {
    const capture = this.captures.get(part);
    if (!capture) return;
    this.captures.delete(part);
    keepRun(capture);
    let text = decodeTextBody(Buffer.concat(capture.chunks, capture.length), part.content);
    if (capture.html) {
      text = htmlToSearchText(text);
      if (this.htmlLength < this.limit) this.html.push(text);
      this.htmlLength += text.length;
    } else {
      if (this.plainLength < this.limit) this.plain.push(text.trim());
      this.plainLength += text.length;
    }
  }

  finish(): { text: string; truncated: boolean } {
    const body = this.plain.length ? this.plain : this.html;
    let text = [...this.filenames, ...body].filter(Boolean).join('\n');
    let truncated = this.cut;
    if (text.length > this.limit) {
      truncated = true;
      text = text.slice(0, this.limit);
      // Do not leave half of a surrogate pair at the cut.
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) text = text.slice(0, -1);
    }
    return { text, truncated };
  }
}
