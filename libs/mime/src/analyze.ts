import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { listAttachments } from './attachments.js';
import { buildBodyStructure } from './bodystructure.js';
import { buildEnvelope, decodeHeaders, headerSearchText, readRawHeaders } from './envelope.js';
import type { ScannedPart } from './part-scanner.js';
import { PartScanner } from './part-scanner.js';
import { SearchTextCollector } from './search-text.js';
import type { AnalyzeOptions, BodyStructure, MessageAnalysis } from './types.js';

const DEFAULTS = {
  searchTextLimit: 256 * 1024,
  maxHeaderBytes: 256 * 1024,
  maxParts: 1000,
  maxDepth: 50,
  onInternalError: () => undefined,
} satisfies Required<AnalyzeOptions>;

/**
 * The push form of analyzeMessage, for a caller that already reads the message (smtp-ingress
 * streaming DATA into the blob store can feed the same chunks here). write() and end() never throw
 * on message content: a broken message gets a best-effort analysis with `malformed: true`.
 */
export class MessageAnalyzer {
  private readonly hash = createHash('sha256');
  private readonly search: SearchTextCollector;
  private readonly scanner: PartScanner;
  private failed = false;
  private size = 0;
  private readonly onInternalError: (error: unknown) => void;

  constructor(options: AnalyzeOptions = {}) {
    const o = { ...DEFAULTS, ...options };
    this.onInternalError = o.onInternalError;
    this.search = new SearchTextCollector(o.searchTextLimit);
    this.scanner = new PartScanner(
      {
        headersDone: (part) => this.search.headersDone(part),
        body: (part, bytes) => this.search.body(part, bytes),
        partEnd: (part) => this.search.partEnd(part),
      },
      { maxHeaderBytes: o.maxHeaderBytes, maxParts: o.maxParts, maxDepth: o.maxDepth },
    );
  }

  write(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.hash.update(buf);
    this.size += buf.length;
    if (this.failed) return;
    try {
      this.scanner.write(buf);
      // Nothing of the caller's chunk is kept once write() returns (it may reuse it).
      this.search.chunkDone();
    } catch (error) {
      // A bug of ours on odd input must not lose the message: keep counting, structure stops here.
      this.failed = true;
      this.onInternalError(error);
    }
  }

  end(): MessageAnalysis {
    try {
      this.scanner.end();
    } catch (error) {
      this.failed = true;
      this.onInternalError(error);
    }
    const sha256 = this.hash.digest('hex');
    try {
      return this.result(sha256);
    } catch (error) {
      this.onInternalError(error);
      return fallbackAnalysis(this.size, this.scanner.lfCount, sha256);
    }
  }

  private result(sha256: string): MessageAnalysis {
    const root = this.scanner.root;
    const rawHeaders = readRawHeaders(root.fields);
    let bodystructure = buildBodyStructure(root);
    if (this.failed) bodystructure = wholeBodyAsText(root, this.size);
    const attachments = listAttachments(bodystructure);
    const search = this.search.finish();
    return {
      size: this.size,
      lines: this.scanner.lfCount,
      sha256,
      headerSize: root.bodyStart,
      headers: decodeHeaders(rawHeaders),
      rawHeaders,
      envelope: buildEnvelope(rawHeaders),
      bodystructure,
      searchText: search.text,
      searchTextTruncated: search.truncated,
      headerText: headerSearchText(root.fields),
      attachments,
      hasAttachments: attachments.length > 0,
      malformed: this.failed || this.scanner.malformed,
    };
  }
}

/** When the scanner gave up mid-way its tree is unreliable; one text part over the body is not. */
function wholeBodyAsText(root: ScannedPart, size: number): BodyStructure {
  const bodyStart = root.inHeader ? size : Math.min(root.bodyStart, size);
  return {
    kind: 'text',
    type: 'text',
    subtype: 'plain',
    params: { charset: 'us-ascii' },
    id: null,
    description: null,
    encoding: '7BIT',
    size: size - bodyStart,
    md5: null,
    lines: 0,
    section: '1',
    offsets: { headerStart: 0, bodyStart, bodyEnd: size },
    disposition: null,
    language: null,
    location: null,
  };
}

function fallbackAnalysis(size: number, lines: number, sha256: string): MessageAnalysis {
  const none = {
    subject: null,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    date: null,
    messageId: null,
    inReplyTo: null,
    references: null,
  };
  return {
    size,
    lines,
    sha256,
    headerSize: 0,
    headers: {
      ...none,
      from: [],
      sender: [],
      replyTo: [],
      to: [],
      cc: [],
      bcc: [],
      references: [],
      sentDay: null,
    },
    rawHeaders: none,
    envelope: { ...none },
    bodystructure: {
      kind: 'text',
      type: 'text',
      subtype: 'plain',
      params: { charset: 'us-ascii' },
      id: null,
      description: null,
      encoding: '7BIT',
      size,
      md5: null,
      lines,
      section: '1',
      offsets: { headerStart: 0, bodyStart: 0, bodyEnd: size },
      disposition: null,
      language: null,
      location: null,
    },
    searchText: '',
    searchTextTruncated: false,
    headerText: '',
    attachments: [],
    hasAttachments: false,
    malformed: true,
  };
}

/**
 * Reads a raw RFC 5322 message once and returns everything IMAP, POP3 and search need. Bodies are
 * only counted, hashed and (text parts, up to a cap) decoded; memory stays flat for any size.
 * Rejects only when the source itself fails.
 */
export async function analyzeMessage(
  source: Readable | AsyncIterable<Uint8Array>,
  options?: AnalyzeOptions,
): Promise<MessageAnalysis> {
  const analyzer = new MessageAnalyzer(options);
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    analyzer.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  return analyzer.end();
}
