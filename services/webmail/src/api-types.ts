/*
 * What the webmail's JSON API carries, shared by the server (src/) and the page (web/): no imports, so
 * the page's build (DOM types, no Node) can read it too.
 */

export interface Folder {
  path: string;
  name: string;
  delimiter: string;
  /** RFC 6154 attribute (\Sent, \Trash, ...), when the server names one. */
  specialUse: string | null;
  messages: number;
  unseen: number;
}

export interface MessageSummary {
  uid: number;
  date: string | null;
  from: string;
  to: string;
  subject: string;
  size: number;
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  hasAttachments: boolean;
}

export interface MessagePage {
  folder: string;
  total: number;
  page: number;
  pageSize: number;
  messages: MessageSummary[];
}

/** What the server says changed in the folder the session has open, for the browser's live view. */
export interface MailboxChange {
  kind: 'exists' | 'expunge' | 'flags';
  folder: string;
}

/** One message as the reading pane shows it; the HTML body is served apart, sanitised (sanitize-html.ts). */
export interface MessageView {
  folder: string;
  uid: number;
  subject: string;
  from: string;
  /** The bare address to reply to (Reply-To, else From). */
  replyTo: string;
  to: string;
  cc: string;
  /** The bare addresses of To and Cc, for reply-all. */
  recipients: string[];
  date: string | null;
  messageId: string | null;
  references: string[];
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  /** The text/plain alternative (or the text mailparser derives from the HTML). */
  text: string;
  hasHtml: boolean;
  attachments: { index: number; filename: string; contentType: string; size: number }[];
}

/** GET /api/message: the view, and how many remote images the "show images" bar offers. */
export interface OpenedMessage extends MessageView {
  remoteImages: number;
}

/** POST /api/send. */
export interface Outgoing {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  /** The message answered: threading headers, and \Answered on it once sent. */
  inReplyTo?: { folder: string; uid: number };
}
