import { buildEnvelope, readRawHeaders } from './envelope.js';
import type { ScannedPart } from './part-scanner.js';
import type { BodyStructure, PartOffsets, TextBody } from './types.js';

function child(section: string, n: number): string {
  return section ? `${section}.${n}` : String(n);
}

function offsetsOf(part: ScannedPart): PartOffsets {
  return { headerStart: part.headerStart, bodyStart: part.bodyStart, bodyEnd: part.bodyEnd };
}

/**
 * The root of a message (top level or inside message/rfc822 part `messageSection`). A single-part
 * root is addressed as "<messageSection>.1"; a multipart root only through its parts.
 */
function messageRoot(part: ScannedPart, messageSection: string): BodyStructure {
  return bodyPart(part, part.kind === 'multipart' ? messageSection : child(messageSection, 1));
}

function bodyPart(part: ScannedPart, section: string): BodyStructure {
  const c = part.content;
  const common = {
    section,
    offsets: offsetsOf(part),
    disposition: c.disposition,
    language: c.language,
    location: c.location,
  };
  if (part.kind === 'multipart') {
    const parts = part.children.map((p, i) => bodyPart(p, child(section, i + 1)));
    if (parts.length === 0) parts.push(emptyTextPart(part, child(section, 1)));
    return { kind: 'multipart', type: 'multipart', subtype: c.subtype, params: c.params, parts, ...common };
  }
  const single = {
    type: c.type,
    subtype: c.subtype,
    params: c.params,
    id: c.id,
    description: c.description,
    encoding: c.encoding,
    size: part.bodyEnd - part.bodyStart,
    md5: c.md5,
    ...common,
  };
  if (part.kind === 'message' && part.message) {
    return {
      kind: 'message',
      ...single,
      lines: part.lines,
      envelope: buildEnvelope(readRawHeaders(part.message.fields)),
      body: messageRoot(part.message, section),
    };
  }
  if (c.type === 'text') return { kind: 'text', ...single, lines: part.lines };
  return { kind: 'basic', ...single };
}

/**
 * IMAP has no multipart without parts; like Dovecot we report one empty-headed text/plain part, here
 * spanning the multipart's body so that its bytes stay reachable as BODY[n.1].
 */
function emptyTextPart(multipart: ScannedPart, section: string): TextBody {
  return {
    kind: 'text',
    type: 'text',
    subtype: 'plain',
    params: { charset: 'us-ascii' },
    id: null,
    description: null,
    encoding: '7BIT',
    size: multipart.bodyEnd - multipart.bodyStart,
    md5: null,
    lines: multipart.lines,
    section,
    offsets: { headerStart: multipart.bodyStart, bodyStart: multipart.bodyStart, bodyEnd: multipart.bodyEnd },
    disposition: null,
    language: null,
    location: null,
  };
}

export function buildBodyStructure(root: ScannedPart): BodyStructure {
  return messageRoot(root, '');
}
