import { randomBytes } from 'node:crypto';
import type { UploadedAttachment } from './api-types.js';
import type { WebmailSession } from './sessions.js';
import { WebmailError } from './webmail-error.js';

interface Upload extends UploadedAttachment {
  content: Buffer;
}

/**
 * Attachments uploaded for the compose form of one session, held in this process until the message is
 * sent, the attachment removed, or the session ends. Bounded: all of a session's uploads together may
 * hold twice the submission limit (a message being written and a draft reopened beside it), so a
 * browser cannot make the server hold more than that per session.
 */
export class Uploads {
  readonly #items = new Map<string, Upload>();
  #bytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  add(filename: string, contentType: string, content: Buffer): UploadedAttachment {
    if (this.#bytes + content.length > 2 * this.maxMessageBytes) {
      throw new WebmailError(
        413,
        'too_many_uploads',
        'Too many attachments are waiting to be sent; remove some, or send or discard a message first.',
      );
    }
    const upload: Upload = {
      id: randomBytes(12).toString('base64url'),
      filename,
      contentType,
      size: content.length,
      content,
    };
    this.#items.set(upload.id, upload);
    this.#bytes += content.length;
    return { id: upload.id, filename, contentType, size: upload.size };
  }

  get(id: string): Upload | undefined {
    return this.#items.get(id);
  }

  remove(id: string): boolean {
    const upload = this.#items.get(id);
    if (!upload) return false;
    this.#items.delete(id);
    this.#bytes -= upload.size;
    return true;
  }

  get bytes(): number {
    return this.#bytes;
  }
}

/** The session's uploads, made on first use. */
export function sessionUploads(session: WebmailSession, maxMessageBytes: number): Uploads {
  session.uploads ??= new Uploads(maxMessageBytes);
  return session.uploads;
}
