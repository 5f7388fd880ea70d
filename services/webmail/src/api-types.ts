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
  /** In a threaded list: the thread's first message, how deep this one sits, how many it has. */
  thread?: { root: number; depth: number; size: number };
}

export interface MessagePage {
  folder: string;
  total: number;
  page: number;
  pageSize: number;
  /** Pages count threads (total is the number of threads), each listed in tree order. */
  threaded?: boolean;
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
  /** The bare From address, lowercased: the key of "always show images from this sender". */
  sender: string;
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
  /** The user allowed remote images from this sender for good (and our MX did not see DMARC fail). */
  imagesAllowed: boolean;
  /** Whether "always from this sender" can be offered (the server keeps such a list). */
  senderListAvailable: boolean;
  /** What our own MX found (its Authentication-Results); null when it added none. */
  authentication: AuthenticationSummary | null;
}

/** Results are RFC 8601 words: pass, fail, softfail, neutral, none, temperror, permerror, policy. */
export interface AuthenticationSummary {
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
}

/** GET /api/message/headers: every header field as it came, in order. */
export interface MessageHeaders {
  headers: { name: string; value: string }[];
}

/** POST /api/send and POST /api/drafts: what the compose form holds. */
export interface Outgoing {
  /** One of the user's own addresses (GET /api/identities); default: the signed-in address. */
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  /** The plain text; with `html`, the text/plain alternative of it. */
  text: string;
  /** Rich text, sanitised by the server before it is sent or saved. */
  html?: string;
  /** Ids from POST /api/attachments, in order. */
  attachments?: string[];
  /** The message answered: threading headers, and \Answered on it once sent. */
  inReplyTo?: { folder: string; uid: number };
  /** The message forwarded: $Forwarded on it once sent. */
  forwardOf?: { folder: string; uid: number };
  /** The version of this message saved in Drafts: replaced on save, deleted on send. */
  draftUid?: number;
}

/** POST /api/attachments: an upload held for the compose form until sent or removed. */
export interface UploadedAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

/** POST /api/drafts: where the draft now is. */
export interface SavedDraft {
  folder: string;
  /** Null when the server does not report it (no UIDPLUS): the next save cannot replace it. */
  uid: number | null;
}

/** GET /api/drafts/open: a draft back in the compose form (its attachments uploaded again). */
export interface OpenedDraft extends Outgoing {
  attachmentList: UploadedAttachment[];
}

/** GET /api/contacts: someone the user has written to or received from. */
export interface Correspondent {
  address: string;
  name: string;
}

/** GET/PUT /api/settings: kept per user on the server. */
export interface UserSettings {
  displayName: string;
  signature: string;
  replyMode: 'reply' | 'reply-all';
  /** Remote images in HTML mail: ask each time, always show, never offer. */
  imagesPolicy: 'ask' | 'always' | 'never';
  composeMode: 'html' | 'text';
}

/** GET /api/settings/client-setup: what to type into a mail client, as autoconfig would say it. */
export interface ClientSetup {
  address: string;
  hostname: string;
  /** Preferred first: implicit TLS before STARTTLS, IMAP before POP3. */
  endpoints: { protocol: 'imap' | 'pop3' | 'smtp'; port: number; tls: 'implicit' | 'starttls' }[];
  /** Where Thunderbird-style clients fetch the same by themselves. */
  autoconfigUrl: string;
}

/**
 * The rules and vacation forms as the page edits them. The authority is libs/sieve's forms.ts (zod);
 * these plain copies exist because the page's build cannot read that library, and routes/rules.ts
 * fails to compile if the two drift apart.
 */
export interface RuleCondition {
  /** `to` is To or Cc; `header` names its field in `header`. */
  field: 'from' | 'to' | 'subject' | 'header';
  header?: string | undefined;
  match: 'contains' | 'is' | 'matches';
  value: string;
}

export type RuleAction =
  | { type: 'fileinto'; folder: string }
  | { type: 'read' }
  | { type: 'flag' }
  | { type: 'discard' }
  | { type: 'redirect'; address: string; copy: boolean }
  | { type: 'stop' };

export interface Rule {
  name: string;
  enabled: boolean;
  match: 'all' | 'any';
  conditions: RuleCondition[];
  actions: RuleAction[];
}

export interface VacationForm {
  enabled: boolean;
  subject: string;
  body: string;
  days: number;
  addresses: string[];
  from: string;
  start?: string | undefined;
  end?: string | undefined;
  zone?: string | undefined;
}

/** GET /api/sieve: the forms, and the whole active script for the "edit script" view. */
export interface SieveForms {
  rules: Rule[];
  vacation: VacationForm | null;
  /** The forms' section was changed by hand: saving a form replaces that section. */
  edited: boolean;
  /** The active script as the server holds it ('' when there is none). */
  script: string;
  scriptName: string;
}
