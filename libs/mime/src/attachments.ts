import { partFilename } from './content-headers.js';
import type { AttachmentInfo, BodyStructure } from './types.js';

/**
 * What a mail client would list as attachments: parts with disposition "attachment", attached
 * messages, and non-text parts without a disposition unless they are resources of a
 * multipart/related body (inline images of an HTML message). Inline parts are never listed.
 */
function isAttachment(part: BodyStructure, parentSubtype: string | null): boolean {
  const disposition = part.disposition?.type ?? null;
  if (disposition === 'attachment') return true;
  if (disposition !== null) return false;
  if (part.kind === 'message') return true;
  if (part.type === 'text') return partFilename(part) !== null;
  return parentSubtype !== 'related';
}

export function listAttachments(root: BodyStructure): AttachmentInfo[] {
  const found: AttachmentInfo[] = [];
  const walk = (part: BodyStructure, parentSubtype: string | null): void => {
    if (part.kind === 'multipart') {
      for (const child of part.parts) walk(child, part.subtype);
      return;
    }
    if (!isAttachment(part, parentSubtype)) {
      if (part.kind === 'message') walk(part.body, null);
      return;
    }
    found.push({
      section: part.section,
      filename: partFilename(part),
      contentType: `${part.type}/${part.subtype}`,
      disposition: part.disposition?.type ?? null,
      size: part.size,
    });
  };
  walk(root, null);
  return found;
}
