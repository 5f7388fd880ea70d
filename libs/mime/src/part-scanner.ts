import type { ContentInfo } from './content-headers.js';
import { readContentInfo } from './content-headers.js';
import type { HeaderField } from './header-block.js';
import { parseHeaderBlock } from './header-block.js';

/**
 * A streaming MIME splitter that records where every part's header and body start and end.
 *
 * Written by hand: mailsplit (and mailparser on top of it) emit the parts but no byte offsets, only
 * descend into message/rfc822 parts marked inline, and fail the whole message when a header or the
 * part count passes a limit. IMAP needs exact offsets for BODY[1.2.MIME]-style ranged reads and a
 * best-effort tree for any input, so this follows Dovecot's message-parser rules instead:
 * - a delimiter is a line starting with "--" + boundary of any open multipart, the longest match
 *   winning (RFC 2046 5.1.1 only requires the prefix); "--" right after it closes the multipart;
 * - the line break before a delimiter belongs to the delimiter, not to the body before it;
 * - a delimiter met while a part's header is still open ends that header (and the part);
 * - lines are the line feeds inside a body.
 * Only lines that could still be a delimiter or a header are held in memory; body bytes stream through.
 */

export type PartKind = 'multipart' | 'message' | 'leaf';

export interface ScannedPart {
  parent: ScannedPart | null;
  depth: number;
  /** True for the top-level message and for the message inside a message/rfc822 part. */
  isMessageRoot: boolean;
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  lines: number;
  fields: HeaderField[];
  content: ContentInfo;
  kind: PartKind;
  children: ScannedPart[];
  /** The embedded message of a message/rfc822 part. */
  message: ScannedPart | null;
  // Scanner state:
  inHeader: boolean;
  ended: boolean;
  headerChunks: Buffer[];
  headerKept: number;
  lfAtBodyStart: number;
  boundary: Buffer | null;
  /** The closing delimiter was seen: later lines are epilogue. */
  closed: boolean;
}

export interface ScanHooks {
  /** The header of a part is parsed and its kind decided. */
  headersDone(part: ScannedPart): void;
  /** Raw (still transfer-encoded) bytes of a leaf part's body, in order; may include the final line break. */
  body(part: ScannedPart, bytes: Buffer): void;
  /** The part's body ended; offsets and lines are final. */
  partEnd(part: ScannedPart): void;
}

export interface ScanLimits {
  maxHeaderBytes: number;
  maxParts: number;
  maxDepth: number;
}

// How much of a body line we hold to test it as a delimiter, beyond the boundary itself.
const DELIMITER_SLACK = 1024;
// RFC 2046 allows 70; longer boundary values are junk we refuse to match on.
const MAX_BOUNDARY = 998;
const MAX_HEADER_LINE = 64 * 1024;
const MESSAGE_ENCODINGS = new Set(['7BIT', '8BIT', 'BINARY']);

const PLACEHOLDER: ContentInfo = {
  type: 'text',
  subtype: 'plain',
  params: { charset: 'us-ascii' },
  id: null,
  description: null,
  encoding: '7BIT',
  md5: null,
  disposition: null,
  language: null,
  location: null,
};

function newPart(parent: ScannedPart | null, headerStart: number, isMessageRoot: boolean): ScannedPart {
  return {
    parent,
    depth: parent ? parent.depth + 1 : 0,
    isMessageRoot,
    headerStart,
    bodyStart: headerStart,
    bodyEnd: headerStart,
    lines: 0,
    fields: [],
    content: PLACEHOLDER,
    kind: 'leaf',
    children: [],
    message: null,
    inHeader: true,
    ended: false,
    headerChunks: [],
    headerKept: 0,
    lfAtBodyStart: 0,
    boundary: null,
    closed: false,
  };
}

function isBlankLine(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

export class PartScanner {
  readonly root: ScannedPart;
  /** Something was malformed or over a limit; the tree is a best effort. */
  malformed = false;
  /** Octets consumed. */
  offset = 0;
  /** Line feeds consumed. */
  lfCount = 0;

  private current: ScannedPart;
  private partCount = 1;
  private lineStart = 0;
  private lineLen = 0;
  private kept: Buffer[] = [];
  private keptLen = 0;
  private overflow = false;
  private headerLineCut = false;
  private lastByte = -1;
  private prevByte = -1;
  /** Where the line break of the previous complete line starts. */
  private prevTermStart = 0;
  private bodyKeepLimit = DELIMITER_SLACK;
  /** One overlong field must not use up the header budget of the fields after it. */
  private readonly maxHeaderLine: number;

  constructor(
    private readonly hooks: ScanHooks,
    private readonly limits: ScanLimits,
  ) {
    this.maxHeaderLine = Math.min(MAX_HEADER_LINE, Math.ceil(limits.maxHeaderBytes / 2));
    this.root = newPart(null, 0, true);
    this.current = this.root;
  }

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl === -1 ? chunk.length : nl + 1;
      this.append(chunk.subarray(pos, end));
      pos = end;
      if (nl !== -1) this.endLine(true);
    }
  }

  /** Ends the input: an unterminated last line is a line, and every open part ends here. */
  end(): void {
    if (this.lineLen > 0) this.endLine(false);
    for (let p: ScannedPart | null = this.current; p; p = p.parent) {
      if (p.ended) continue;
      if (p.inHeader) {
        this.malformed ||= p !== this.root;
        this.finishHeader(p, this.offset, this.lfCount, false);
      }
      p.bodyEnd = this.offset;
      p.lines = this.lfCount - p.lfAtBodyStart;
      p.ended = true;
      this.hooks.partEnd(p);
    }
  }

  private append(piece: Buffer): void {
    this.offset += piece.length;
    this.lineLen += piece.length;
    this.prevByte = piece.length >= 2 ? piece[piece.length - 2]! : this.lastByte;
    this.lastByte = piece[piece.length - 1]!;
    const part = this.current;
    if (this.overflow) {
      if (!part.inHeader && part.kind === 'leaf') this.hooks.body(part, piece);
      return;
    }
    this.kept.push(piece);
    this.keptLen += piece.length;
    const limit = part.inHeader
      ? Math.max(
          this.bodyKeepLimit,
          Math.min(this.maxHeaderLine, this.limits.maxHeaderBytes - part.headerKept),
        )
      : this.bodyKeepLimit;
    if (this.keptLen <= limit) return;
    // Too long to be a delimiter or a blank line: stream it on instead of holding it.
    const line = this.takeKept();
    this.overflow = true;
    if (part.inHeader) {
      this.storeHeaderLine(part, line);
      this.headerLineCut = true;
    } else if (part.kind === 'leaf') {
      this.hooks.body(part, line);
    }
  }

  private takeKept(): Buffer {
    const line = this.kept.length === 1 ? this.kept[0]! : Buffer.concat(this.kept, this.keptLen);
    this.kept = [];
    this.keptLen = 0;
    return line;
  }

  private endLine(terminated: boolean): void {
    const lineStart = this.lineStart;
    const lineEnd = this.offset;
    const termStart = terminated ? lineEnd - (this.lineLen >= 2 && this.prevByte === 0x0d ? 2 : 1) : lineEnd;
    const lfBefore = this.lfCount;
    const line = this.overflow ? null : this.takeKept();
    const part = this.current;

    const delimiter = line ? this.matchDelimiter(line) : null;
    if (delimiter && (delimiter.closing || this.partCount < this.limits.maxParts)) {
      this.onDelimiter(delimiter.owner, delimiter.closing, lineStart, lineEnd, lfBefore);
    } else if (part.inHeader) {
      if (line && isBlankLine(line)) {
        this.finishHeader(part, lineEnd, lfBefore + (terminated ? 1 : 0), true);
      } else if (line) {
        this.storeHeaderLine(part, line);
        if (!terminated) this.storeHeaderLine(part, Buffer.from('\n'));
      } else if (this.headerLineCut) {
        this.storeHeaderLine(part, Buffer.from('\n'), true);
      }
    } else if (line && part.kind === 'leaf') {
      this.hooks.body(part, line);
    }

    if (terminated) this.lfCount++;
    this.prevTermStart = termStart;
    this.lineStart = this.offset;
    this.lineLen = 0;
    this.overflow = false;
    this.headerLineCut = false;
  }

  private storeHeaderLine(part: ScannedPart, line: Buffer, force = false): void {
    const room = Math.min(this.maxHeaderLine, this.limits.maxHeaderBytes - part.headerKept);
    if (room <= 0 && !force) {
      this.malformed = true;
      return;
    }
    const take = force || line.length <= room ? line : line.subarray(0, room);
    if (take.length < line.length) this.malformed = true;
    // Copy: a view would pin the whole input chunk until the header ends.
    part.headerChunks.push(Buffer.from(take));
    part.headerKept += take.length;
  }

  private matchDelimiter(line: Buffer): { owner: ScannedPart; closing: boolean } | null {
    if (line.length < 3 || line[0] !== 0x2d || line[1] !== 0x2d) return null;
    let best: ScannedPart | null = null;
    for (let p: ScannedPart | null = this.current; p; p = p.parent) {
      const b = p.boundary;
      if (!b || p.closed || p.ended) continue;
      if (line.length < b.length + 2 || (best && best.boundary!.length >= b.length)) continue;
      if (line.compare(b, 0, b.length, 2, 2 + b.length) === 0) best = p;
    }
    if (!best) return null;
    const after = 2 + best.boundary!.length;
    return { owner: best, closing: line[after] === 0x2d && line[after + 1] === 0x2d };
  }

  private onDelimiter(
    owner: ScannedPart,
    closing: boolean,
    lineStart: number,
    lineEnd: number,
    lfBefore: number,
  ): void {
    let innerEnd = 0;
    for (let p = this.current; p !== owner && p.parent; p = p.parent) {
      // An inner multipart ended by an outer delimiter never got its closing delimiter.
      if (p.kind === 'multipart' && p.boundary && !p.closed) this.malformed = true;
      innerEnd = this.closeBeforeDelimiter(p, lineStart, lfBefore, innerEnd);
    }
    if (closing) {
      owner.closed = true;
      this.setCurrent(owner);
      return;
    }
    const child = newPart(owner, lineEnd, false);
    owner.children.push(child);
    this.partCount++;
    this.setCurrent(child);
  }

  /**
   * Ends `part` at the delimiter starting at `delimiterStart`, returning its body end. `innerEnd` is
   * where the part inside it ended: when a header's blank line is directly followed by a delimiter,
   * that line break was already taken by the header, and a part never ends before its children.
   */
  private closeBeforeDelimiter(
    part: ScannedPart,
    delimiterStart: number,
    lfBefore: number,
    innerEnd: number,
  ): number {
    // The previous line's break belongs to the delimiter, unless it is before this part began.
    if (part.inHeader) {
      const headerEnd = Math.max(part.headerStart, this.prevTermStart);
      this.finishHeader(part, headerEnd, lfBefore, false);
    }
    const bodyEnd = Math.max(part.bodyStart, Math.min(this.prevTermStart, delimiterStart), innerEnd);
    part.bodyEnd = bodyEnd;
    if (bodyEnd >= delimiterStart) part.lines = lfBefore - part.lfAtBodyStart;
    else if (bodyEnd > part.bodyStart) part.lines = lfBefore - 1 - part.lfAtBodyStart;
    else part.lines = 0;
    part.lines = Math.max(0, part.lines);
    part.ended = true;
    this.hooks.partEnd(part);
    return bodyEnd;
  }

  private finishHeader(part: ScannedPart, bodyStart: number, lfAtBodyStart: number, descend: boolean): void {
    const block = Buffer.concat(part.headerChunks, part.headerKept);
    part.headerChunks = [];
    part.fields = parseHeaderBlock(block);
    const parent = part.parent;
    const inDigest = parent?.kind === 'multipart' && parent.content.subtype === 'digest';
    part.content = readContentInfo(part.fields, inDigest ? 'message/rfc822' : 'text/plain');
    part.inHeader = false;
    part.bodyStart = bodyStart;
    part.bodyEnd = bodyStart;
    part.lfAtBodyStart = lfAtBodyStart;

    const c = part.content;
    if (c.type === 'multipart') {
      part.kind = 'multipart';
      const boundary = c.params.boundary;
      if (boundary && boundary.length <= MAX_BOUNDARY && part.depth < this.limits.maxDepth) {
        part.boundary = Buffer.from(boundary, 'utf8');
      } else {
        this.malformed = true;
      }
    } else if (
      descend &&
      c.type === 'message' &&
      (c.subtype === 'rfc822' || c.subtype === 'global') &&
      MESSAGE_ENCODINGS.has(c.encoding) &&
      part.depth < this.limits.maxDepth &&
      this.partCount < this.limits.maxParts
    ) {
      part.kind = 'message';
      part.message = newPart(part, bodyStart, true);
      this.partCount++;
    } else {
      part.kind = 'leaf';
    }
    this.hooks.headersDone(part);
    this.setCurrent(part.message ?? part);
  }

  private setCurrent(part: ScannedPart): void {
    this.current = part;
    let longest = 0;
    for (let p: ScannedPart | null = part; p; p = p.parent) {
      if (p.boundary && p.boundary.length > longest) longest = p.boundary.length;
    }
    this.bodyKeepLimit = longest + DELIMITER_SLACK;
  }
}
