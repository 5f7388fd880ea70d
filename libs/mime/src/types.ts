/**
 * JSON shapes of the analysis. ENVELOPE and BODYSTRUCTURE mirror RFC 3501 / RFC 9051 section 7.5.2
 * field by field, so an IMAP serializer walks them in order; `null` is NIL.
 */

/** An ENVELOPE address: [name, adl, mailbox, host]. Group start is [null, null, group, null]; end is all null. */
export type ImapAddress = [
  name: string | null,
  adl: string | null,
  mailbox: string | null,
  host: string | null,
];

/** The IMAP ENVELOPE with RAW header values (encoded words kept, only unfolded), as RFC 3501 asks. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: ImapAddress[] | null;
  /** Defaults to `from` when the Sender field is absent or empty. */
  sender: ImapAddress[] | null;
  /** Defaults to `from` when the Reply-To field is absent or empty. */
  replyTo: ImapAddress[] | null;
  to: ImapAddress[] | null;
  cc: ImapAddress[] | null;
  bcc: ImapAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** Absolute byte offsets of a body part inside the raw message. */
export interface PartOffsets {
  /** First byte of the part's header (its MIME header, or the message header for a message root). */
  headerStart: number;
  /** First byte of the body; the header is [headerStart, bodyStart) and includes the blank line. */
  bodyStart: number;
  /** One past the last body byte; the CRLF before a multipart delimiter is not part of the body. */
  bodyEnd: number;
}

export interface ContentDisposition {
  /** Lowercased, e.g. "attachment" or "inline". */
  type: string;
  params: Record<string, string>;
}

interface PartCommon {
  /**
   * The IMAP part specifier of this node: "1.2" for the second child of the first part. A single-part
   * message root is "1" (or "<s>.1" inside a message/rfc822 part s); a multipart message root has the
   * section of the message it is the root of ("" at the top), since it is only reached through s.HEADER/s.TEXT.
   */
  section: string;
  offsets: PartOffsets;
  disposition: ContentDisposition | null;
  language: string[] | null;
  location: string | null;
}

export interface MultipartBody extends PartCommon {
  kind: 'multipart';
  type: 'multipart';
  /** Lowercased, e.g. "mixed". */
  subtype: string;
  params: Record<string, string>;
  /** Never empty: a multipart without parts gets one empty text/plain part, as Dovecot reports it. */
  parts: BodyStructure[];
}

interface SinglePartFields extends PartCommon {
  /** Lowercased media type, e.g. "text". */
  type: string;
  subtype: string;
  /** Parameter names lowercased; RFC 2231 continuations joined and decoded. Empty object means NIL. */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Uppercased Content-Transfer-Encoding, "7BIT" when absent. */
  encoding: string;
  /** Body octets: offsets.bodyEnd - offsets.bodyStart. */
  size: number;
  /** The Content-MD5 field when present, else null (we never compute it). */
  md5: string | null;
}

export interface BasicBody extends SinglePartFields {
  kind: 'basic';
}

export interface TextBody extends SinglePartFields {
  kind: 'text';
  /** Line feeds inside the body (Dovecot's count). */
  lines: number;
}

export interface MessageBody extends SinglePartFields {
  kind: 'message';
  lines: number;
  envelope: Envelope;
  /** The embedded message's root; its offsets.headerStart equals this part's offsets.bodyStart. */
  body: BodyStructure;
}

export type BodyStructure = MultipartBody | BasicBody | TextBody | MessageBody;

/** A mailbox or a group, with display names decoded (RFC 2047) for search and webmail. */
export type AddressEntry = { name: string; address: string } | { name: string; group: AddressEntry[] };

/** Header fields decoded for search and webmail; the first occurrence of each field counts. */
export interface DecodedHeaders {
  subject: string | null;
  from: AddressEntry[];
  sender: AddressEntry[];
  replyTo: AddressEntry[];
  to: AddressEntry[];
  cc: AddressEntry[];
  bcc: AddressEntry[];
  /** The Date field parsed; null when absent or unparseable. */
  date: Date | null;
  /** The Date field's calendar day (YYYY-MM-DD) in its own zone; null when absent or unparseable. */
  sentDay: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  /** Message ids of References, in order, with their angle brackets. */
  references: string[];
}

/** Raw (unfolded, not decoded) values of the same fields; null when absent. */
export interface RawHeaders {
  subject: string | null;
  from: string | null;
  sender: string | null;
  replyTo: string | null;
  to: string | null;
  cc: string | null;
  bcc: string | null;
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string | null;
}

export interface AttachmentInfo {
  section: string;
  /** Decoded filename; null when the part has none. */
  filename: string | null;
  /** "type/subtype", lowercased. */
  contentType: string;
  disposition: string | null;
  /** Encoded body octets. */
  size: number;
}

export interface MessageAnalysis {
  /** Octets of the raw message. */
  size: number;
  /** Line feeds in the raw message. */
  lines: number;
  /** Hex SHA-256 of the raw bytes (the blob key in a content-addressed store). */
  sha256: string;
  /** Octets of the top-level header, blank line included. */
  headerSize: number;
  headers: DecodedHeaders;
  rawHeaders: RawHeaders;
  envelope: Envelope;
  bodystructure: BodyStructure;
  /** UTF-8 text for full-text search: plain parts (HTML stripped when there are none) and attachment names. */
  searchText: string;
  /** True when searchText was cut at options.searchTextLimit. */
  searchTextTruncated: boolean;
  /** The top-level header fields decoded, one a line, for SEARCH TEXT. */
  headerText: string;
  attachments: AttachmentInfo[];
  hasAttachments: boolean;
  /** True when the parser met something it had to guess around (never thrown). */
  malformed: boolean;
}

export interface AnalyzeOptions {
  /** Max characters of searchText (default 256 KiB). */
  searchTextLimit?: number;
  /** Max header bytes kept for parsing per header block; the rest is counted only (default 256 KiB). */
  maxHeaderBytes?: number;
  /** Max body parts; further delimiters are treated as content (default 1000). */
  maxParts?: number;
  /** Max nesting of multipart and message/rfc822 (default 50). */
  maxDepth?: number;
  /**
   * Told about an error of the analysis itself, which it survives (the message still gets a
   * best-effort analysis): the fuzz targets fail on it, a service may log it.
   */
  onInternalError?: (error: unknown) => void;
}
