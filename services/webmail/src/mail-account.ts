import { EventEmitter } from 'node:events';
import { ImapFlow, type FetchMessageObject, type MessageStructureObject } from 'imapflow';
import type { Logger } from 'pino';
import { proxyHeaderFor, tlsOptions, type BrowserAddress, type Gateways } from './gateways.js';
import type { Folder, MailboxChange, MessagePage, MessageSummary } from './api-types.js';
import { WebmailError } from './webmail-error.js';

export type { Folder, MailboxChange, MessagePage, MessageSummary } from './api-types.js';

export type SortKey = 'date' | 'arrival' | 'from' | 'subject' | 'size';

export interface ListRequest {
  folder: string;
  page: number;
  pageSize: number;
  sort: SortKey;
  descending: boolean;
  /** Words to look for in subject, from, to and body (IMAP SEARCH through SORT's search criteria). */
  query?: string;
  /** Conversations (THREAD=REFERENCES), newest first; a page is then `pageSize` threads. */
  threaded?: boolean;
}

/** What a list row shows, in one FETCH. */
const SUMMARY_QUERY = {
  uid: true,
  envelope: true,
  flags: true,
  size: true,
  bodyStructure: true,
  internalDate: true,
} as const;

/** Messages of one thread fetched for a page at most: a runaway thread cannot make a page unbounded. */
const MAX_THREAD_MEMBERS = 200;

export type FlagName = 'seen' | 'flagged' | 'answered' | 'forwarded';
const IMAP_FLAGS: Record<FlagName, string> = {
  seen: '\\Seen',
  flagged: '\\Flagged',
  answered: '\\Answered',
  // The keyword clients agree on for "forwarded" (RFC 5788 registry).
  forwarded: '$Forwarded',
};

/**
 * imapflow has no SORT method; exec() is the primitive its own commands are built on. Its commands
 * first end an IDLE in progress (preCheck) and re-arm auto-IDLE afterwards (autoidle); a bare exec()
 * does neither and would wait behind the IDLE forever, so sortedUids() does both as run() does.
 */
interface ImapExec {
  preCheck?: () => Promise<void>;
  idleStartTimer?: NodeJS.Timeout;
  autoidle(): void;
  exec(
    command: string,
    attributes: unknown[],
    options: {
      untagged: Record<string, (untagged: { attributes?: { value?: unknown }[] }) => Promise<void>>;
    },
  ): Promise<{ next(): void }>;
}

const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

/**
 * One signed-in user's mail, reached the way any MUA reaches it: one IMAP connection to the gateway
 * (logged in with the user's own password, which is therefore the IMAP login policy's decision) and
 * submission with the same credentials. The connection IDLEs on the open folder between requests,
 * so the server's news arrive as 'change' events.
 */
export class MailAccount extends EventEmitter<{ change: [MailboxChange]; closed: [] }> {
  #closed = false;
  /** Bumped on every EXISTS/EXPUNGE the server reports: the sort cache's key includes it. */
  #changes = 0;
  /** The last SORT or THREAD answer and what it answered (kept()). */
  #sorted: { key: string; answer: unknown } | undefined;

  private constructor(
    readonly address: string,
    readonly password: string,
    private readonly imap: ImapFlow,
    readonly gateways: Gateways,
    /** The browser this account acts for: named to the gateways in a PROXY header (gateways.ts). */
    readonly browser: BrowserAddress | undefined,
  ) {
    super();
    imap.on('exists', (data: { path: string }) => {
      this.#changes++;
      this.emit('change', { kind: 'exists', folder: data.path });
    });
    imap.on('expunge', (data: { path: string }) => {
      this.#changes++;
      this.emit('change', { kind: 'expunge', folder: data.path });
    });
    imap.on('flags', (data: { path: string }) => this.emit('change', { kind: 'flags', folder: data.path }));
    imap.on('close', () => {
      this.#closed = true;
      this.emit('closed');
    });
    // A dropped connection is reported by 'close'; without a listener an 'error' would crash the process.
    imap.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Logs in over IMAP; null when the gateway refused the credentials (its policy, its lockout). */
  static async signIn(
    gateways: Gateways,
    address: string,
    password: string,
    logger: Logger,
    browser?: BrowserAddress,
  ): Promise<MailAccount | null> {
    const imap = new ImapFlow({
      host: gateways.imap.host,
      port: gateways.imap.port,
      secure: false,
      doSTARTTLS: true,
      // imapflow hands its tls options to net.connect too, so localAddress picks the source address.
      tls: {
        ...tlsOptions(gateways),
        ...(gateways.sourceAddress ? { localAddress: gateways.sourceAddress } : {}),
      },
      auth: { user: address, pass: password },
      logger: false,
      // New mail reaches the browser within a second: IDLE starts soon after the last request.
      autoIdleDelay: 200,
      clientInfo: { name: 'correo-webmail' },
    });
    imap.on('error', () => {});
    try {
      const connecting = imap.connect();
      const header = proxyHeaderFor(gateways, browser, gateways.imap.port);
      if (header) {
        // imapflow has no hook for a PROXY header. Without a proxy option its connect() creates the
        // plain socket synchronously (before its first await) and writes nothing until the greeting,
        // which the gateway sends only after reading the header: queued on the connecting socket now,
        // the header is the first octets on the wire.
        const socket = (
          imap as unknown as { socket?: { write(data: Buffer): boolean; connecting?: boolean } }
        ).socket;
        if (!socket || typeof socket.write !== 'function') {
          imap.close();
          throw new Error('imapflow created no socket to write the PROXY header on');
        }
        socket.write(header);
      }
      await connecting;
    } catch (error) {
      const failure = error as { authenticationFailed?: boolean; message?: string };
      if (failure.authenticationFailed) return null;
      logger.warn({ err: error }, 'webmail: the IMAP gateway could not be reached');
      throw new WebmailError(
        503,
        'mail_unavailable',
        'The mail server cannot be reached right now. Try again in a moment.',
      );
    }
    const account = new MailAccount(address, password, imap, gateways, browser);
    // Something is selected from the start, so IDLE (and the live view) works before the first click.
    await imap.mailboxOpen('INBOX').catch(() => {});
    return account;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.imap.logout().catch(() => this.imap.close());
  }

  async folders(): Promise<Folder[]> {
    const listed = await this.imap.list({ statusQuery: { messages: true, unseen: true } });
    return listed
      .filter((entry) => !entry.flags.has('\\Noselect') && !entry.flags.has('\\NonExistent'))
      .map((entry) => ({
        path: entry.path,
        name: entry.name,
        delimiter: entry.delimiter,
        specialUse: entry.specialUse ?? null,
        messages: entry.status?.messages ?? 0,
        unseen: entry.status?.unseen ?? 0,
      }))
      .sort(folderOrder);
  }

  async list(request: ListRequest): Promise<MessagePage> {
    return this.inFolder(request.folder, async () => {
      if (request.threaded) return this.threadPage(request);
      if (request.sort === 'arrival' && !request.query) return this.arrivalPage(request);
      const uids = await this.sortedUids(request);
      const start = (request.page - 1) * request.pageSize;
      const pageUids = uids.slice(start, start + request.pageSize);
      const summaries = await this.summaries(pageUids);
      return {
        folder: request.folder,
        total: uids.length,
        page: request.page,
        pageSize: request.pageSize,
        messages: pageUids.flatMap((uid) => summaries.get(uid) ?? []),
      };
    });
  }

  /**
   * Arrival order is the mailbox's own order (sequence numbers): a page is a FETCH of its range, with
   * no SORT of the whole folder, so opening a 100,000-message folder costs one page.
   */
  private async arrivalPage(request: ListRequest): Promise<MessagePage> {
    const exists = this.imap.mailbox ? this.imap.mailbox.exists : 0;
    const skip = (request.page - 1) * request.pageSize;
    const [low, high] = request.descending
      ? [Math.max(1, exists - skip - request.pageSize + 1), exists - skip]
      : [skip + 1, Math.min(exists, skip + request.pageSize)];
    const fetched: { seq: number; summary: MessageSummary }[] = [];
    if (low <= high) {
      for await (const message of this.imap.fetch(`${low}:${high}`, SUMMARY_QUERY)) {
        fetched.push({ seq: message.seq, summary: summarize(message) });
      }
    }
    fetched.sort((a, b) => (request.descending ? b.seq - a.seq : a.seq - b.seq));
    return {
      folder: request.folder,
      total: exists,
      page: request.page,
      pageSize: request.pageSize,
      messages: fetched.map((entry) => entry.summary),
    };
  }

  /** A page of conversations: every message of each (up to a bound), in tree order, with its depth. */
  private async threadPage(request: ListRequest): Promise<MessagePage> {
    const threads = await this.kept(['threads', request.query ?? ''], () => this.threads(request.query));
    const start = (request.page - 1) * request.pageSize;
    const pageThreads = threads.slice(start, start + request.pageSize);
    const members = pageThreads.map((thread) => thread.slice(0, MAX_THREAD_MEMBERS));
    const summaries = await this.summaries(members.flat().map((member) => member.uid));
    return {
      folder: request.folder,
      total: threads.length,
      page: request.page,
      pageSize: request.pageSize,
      threaded: true,
      messages: members.flatMap((thread, i) => {
        const root = thread[0]!.uid;
        const size = pageThreads[i]!.length;
        return thread.flatMap((member) => {
          const summary = summaries.get(member.uid);
          return summary ? [{ ...summary, thread: { root, depth: member.depth, size } }] : [];
        });
      }),
    };
  }

  /** ENVELOPE, FLAGS, size and structure of these messages (one FETCH), by UID. */
  private async summaries(uids: number[]): Promise<Map<number, MessageSummary>> {
    const summaries = new Map<number, MessageSummary>();
    if (uids.length === 0) return summaries;
    for await (const message of this.imap.fetch(uids.join(','), SUMMARY_QUERY, { uid: true })) {
      summaries.set(message.uid, summarize(message));
    }
    return summaries;
  }

  /** A new folder; a path with the server's delimiter makes it a subfolder. */
  async createFolder(path: string): Promise<void> {
    this.ensureOpen();
    if ((await this.imap.list()).some((entry) => entry.path.toLowerCase() === path.toLowerCase())) {
      throw new WebmailError(409, 'folder_exists', `There is already a folder named "${path}".`);
    }
    await this.imap.mailboxCreate(path).catch((error: unknown) => {
      throw imapFailure(error);
    });
  }

  /** Renames a folder of the user's own; the inbox and special-use folders keep their names. */
  async renameFolder(path: string, newPath: string): Promise<void> {
    await this.ownFolder(path, 'renamed');
    if ((await this.imap.list()).some((entry) => entry.path.toLowerCase() === newPath.toLowerCase())) {
      throw new WebmailError(409, 'folder_exists', `There is already a folder named "${newPath}".`);
    }
    await this.imap.mailboxRename(path, newPath).catch((error: unknown) => {
      throw imapFailure(error);
    });
  }

  /** Deletes a folder of the user's own, with its messages; never the inbox or a special-use folder. */
  async deleteFolder(path: string): Promise<void> {
    await this.ownFolder(path, 'deleted');
    // Out of it first: a selected mailbox being deleted would leave IDLE on nothing.
    if (this.imap.mailbox && this.imap.mailbox.path === path) await this.imap.mailboxOpen('INBOX');
    await this.imap.mailboxDelete(path).catch((error: unknown) => {
      throw imapFailure(error);
    });
  }

  private async ownFolder(path: string, action: string): Promise<void> {
    this.ensureOpen();
    const entry = (await this.imap.list()).find((candidate) => candidate.path === path);
    if (!entry) throw new WebmailError(404, 'folder_not_found', `There is no folder named "${path}".`);
    if (path.toUpperCase() === 'INBOX' || entry.specialUse) {
      throw new WebmailError(
        422,
        'special_folder',
        `"${path}" is one of the standard folders and cannot be ${action}.`,
      );
    }
  }

  /** The raw message, for parsing; refused past a size a browser tab should not be asked to show. */
  async source(folder: string, uid: number): Promise<{ source: Buffer; flags: Set<string> }> {
    return this.inFolder(folder, async () => {
      // One round trip: flags, size and the body up to the limit (a larger one is refused, so
      // no more than the limit is ever read for it).
      const message = await this.imap.fetchOne(
        String(uid),
        { uid: true, size: true, flags: true, source: { maxLength: MAX_MESSAGE_BYTES } },
        { uid: true },
      );
      if (!message || !message.source) throw notFound();
      if ((message.size ?? 0) > MAX_MESSAGE_BYTES) {
        throw new WebmailError(413, 'message_too_large', 'This message is too large to show in the browser.');
      }
      return { source: message.source, flags: message.flags ?? new Set() };
    });
  }

  async setFlags(folder: string, uids: number[], changes: Partial<Record<FlagName, boolean>>): Promise<void> {
    await this.inFolder(folder, async () => {
      const add = Object.entries(changes).flatMap(([name, on]) => (on ? [IMAP_FLAGS[name as FlagName]] : []));
      const remove = Object.entries(changes).flatMap(([name, on]) =>
        on === false ? [IMAP_FLAGS[name as FlagName]] : [],
      );
      const set = uids.join(',');
      if (add.length > 0) await this.imap.messageFlagsAdd(set, add, { uid: true });
      if (remove.length > 0) await this.imap.messageFlagsRemove(set, remove, { uid: true });
    });
  }

  async move(folder: string, uids: number[], destination: string): Promise<void> {
    if (folder === destination) return;
    await this.inFolder(folder, async () => {
      const moved = await this.imap.messageMove(uids.join(','), destination, { uid: true });
      if (!moved)
        throw new WebmailError(404, 'folder_not_found', `There is no folder named "${destination}".`);
    });
  }

  /** Delete as a mail user means "to the Trash"; in the Trash itself, for good. */
  async remove(folder: string, uids: number[]): Promise<void> {
    const trash = await this.specialFolder('\\Trash');
    if (trash === null || trash === folder) {
      await this.inFolder(folder, () => this.imap.messageDelete(uids.join(','), { uid: true }));
      return;
    }
    await this.move(folder, uids, trash);
  }

  /** Empty Trash (or Junk): every message in it, for good. Other folders are refused. */
  async empty(folder: string): Promise<void> {
    const listed = await this.imap.list();
    const use = listed.find((entry) => entry.path === folder)?.specialUse;
    if (use !== '\\Trash' && use !== '\\Junk') {
      throw new WebmailError(422, 'not_emptiable', 'Only the Trash and Junk folders can be emptied.');
    }
    await this.inFolder(folder, async () => {
      if ((this.imap.mailbox ? this.imap.mailbox.exists : 0) > 0) await this.imap.messageDelete('1:*');
    });
  }

  /** APPENDs; the new message's UID when the server reports it (UIDPLUS), else null. */
  async append(folder: string, raw: Buffer, flags: string[]): Promise<number | null> {
    this.ensureOpen();
    try {
      const appended = await this.imap.append(folder, raw, flags);
      return (appended && appended.uid) || null;
    } catch (error) {
      throw imapFailure(error);
    }
  }

  /** Deletes for good (no Trash): a draft's replaced version, or the draft once sent. */
  async destroy(folder: string, uids: number[]): Promise<void> {
    await this.inFolder(folder, () => this.imap.messageDelete(uids.join(','), { uid: true }));
  }

  /**
   * Who the newest `newest` messages of `folder` came from and went to (ENVELOPE only, no bodies):
   * the material of address autocomplete. A missing folder gives nothing.
   */
  async correspondents(folder: string, newest: number): Promise<{ name: string; address: string }[]> {
    const found: { name: string; address: string }[] = [];
    await this.inFolder(folder, async () => {
      const exists = this.imap.mailbox ? this.imap.mailbox.exists : 0;
      if (exists === 0) return;
      const range = `${Math.max(1, exists - newest + 1)}:*`;
      for await (const message of this.imap.fetch(range, { envelope: true })) {
        const envelope = message.envelope;
        for (const entry of [...(envelope?.from ?? []), ...(envelope?.to ?? []), ...(envelope?.cc ?? [])]) {
          if (entry.address) found.push({ name: entry.name ?? '', address: entry.address });
        }
      }
    }).catch((error: unknown) => {
      if (error instanceof WebmailError && error.code === 'folder_not_found') return;
      throw error;
    });
    return found;
  }

  async specialFolder(use: '\\Sent' | '\\Trash' | '\\Drafts'): Promise<string | null> {
    const listed = await this.imap.list();
    return listed.find((entry) => entry.specialUse === use)?.path ?? null;
  }

  private async inFolder<T>(folder: string, work: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    let lock;
    try {
      lock = await this.imap.getMailboxLock(folder);
    } catch (error) {
      throw imapFailure(
        error,
        new WebmailError(404, 'folder_not_found', `There is no folder named "${folder}".`),
      );
    }
    try {
      return await work();
    } catch (error) {
      throw imapFailure(error);
    } finally {
      lock.release();
    }
  }

  /** UID SORT with the request's order and search words; imapflow has no SORT method of its own. */
  private sortedUids(request: ListRequest): Promise<number[]> {
    return this.kept(['sort', request.sort, request.descending, request.query ?? ''], () =>
      this.sort(request),
    );
  }

  /**
   * The last SORT or THREAD answer, kept while the selected mailbox shows no new or removed message
   * (its UIDNEXT and count as SELECT or the last untagged response left them, and no EXISTS/EXPUNGE
   * since): paging through a folder, or reloading the page, does not sort or thread it again.
   */
  private async kept<T>(question: unknown[], ask: () => Promise<T>): Promise<T> {
    const box = this.imap.mailbox;
    const key = box
      ? JSON.stringify([
          box.path,
          String(box.uidValidity),
          box.uidNext,
          box.exists,
          this.#changes,
          ...question,
        ])
      : undefined;
    if (key !== undefined && this.#sorted?.key === key) return this.#sorted.answer as T;
    const answer = await ask();
    if (key !== undefined) this.#sorted = { key, answer };
    return answer;
  }

  private async sort(request: ListRequest): Promise<number[]> {
    const key = { date: 'DATE', arrival: 'ARRIVAL', from: 'FROM', subject: 'SUBJECT', size: 'SIZE' }[
      request.sort
    ];
    const order = request.descending ? [atom('REVERSE'), atom(key)] : [atom(key)];
    const uids: number[] = [];
    await this.execute(
      'UID SORT',
      [order, atom('UTF-8'), ...searchCriteria(request.query)],
      'SORT',
      (attributes) => {
        for (const attribute of attributes) {
          const uid = Number((attribute as { value?: unknown }).value);
          if (Number.isSafeInteger(uid) && uid > 0) uids.push(uid);
        }
      },
    );
    return uids;
  }

  /**
   * UID THREAD REFERENCES (RFC 5256): each thread as its messages in the server's tree order with
   * their depth, newest thread first (the server orders threads by their first message's date).
   */
  private async threads(query: string | undefined): Promise<ThreadTree[]> {
    const threads: ThreadTree[] = [];
    await this.execute(
      'UID THREAD',
      [atom('REFERENCES'), atom('UTF-8'), ...searchCriteria(query)],
      'THREAD',
      (attributes) => {
        for (const attribute of attributes) {
          const members: ThreadMember[] = [];
          flattenThread(attribute, 0, members);
          if (members.length > 0) threads.push(members);
        }
      },
    );
    return threads.reverse();
  }

  /**
   * A command imapflow has no method for (SORT, THREAD), through exec(), the primitive its own commands
   * are built on: first ending an IDLE in progress and re-arming auto-IDLE afterwards, as run() does.
   */
  private async execute(
    command: string,
    attributes: unknown[],
    untaggedName: string,
    onUntagged: (attributes: unknown[]) => void,
  ): Promise<void> {
    const imap = this.imap as unknown as ImapExec;
    clearTimeout(imap.idleStartTimer);
    try {
      if (typeof imap.preCheck === 'function') await imap.preCheck();
      const response = await imap.exec(command, attributes, {
        untagged: {
          [untaggedName]: async (untagged) => onUntagged((untagged.attributes ?? []) as unknown[]),
        },
      });
      response.next();
    } finally {
      imap.autoidle();
    }
  }

  private ensureOpen(): void {
    if (this.#closed) {
      throw new WebmailError(401, 'signed_out', 'Your session has ended. Sign in again.');
    }
  }
}

function atom(value: string) {
  return { type: 'ATOM', value };
}

/** Each word must appear in the subject, a sender or recipient address, or the text; no words: ALL. */
function searchCriteria(query: string | undefined): unknown[] {
  const words = (query ?? '')
    .split(/\s+/)
    .filter((word) => word !== '')
    .slice(0, 8);
  if (words.length === 0) return [atom('ALL')];
  return words.flatMap((word) => {
    const value = { type: 'STRING', value: word };
    return [
      atom('OR'),
      atom('OR'),
      atom('SUBJECT'),
      value,
      atom('FROM'),
      value,
      atom('OR'),
      atom('TO'),
      value,
      atom('TEXT'),
      value,
    ];
  });
}

/** One thread: its messages in tree order, each with how deep it sits under the first. */
type ThreadTree = ThreadMember[];
interface ThreadMember {
  uid: number;
  depth: number;
}

/**
 * A THREAD answer's list, as imapflow parses it: `(1 2 (3)(4 5))` is an array whose leading atoms
 * are a chain (each the parent of the next) and whose nested arrays are the last one's branches.
 */
function flattenThread(node: unknown, depth: number, into: ThreadMember[]): void {
  if (!Array.isArray(node)) return;
  let level = depth;
  for (const item of node) {
    if (Array.isArray(item)) {
      flattenThread(item, level, into);
      continue;
    }
    const uid = Number((item as { value?: unknown }).value);
    if (Number.isSafeInteger(uid) && uid > 0) into.push({ uid, depth: level++ });
  }
}

const SPECIAL_ORDER = ['\\Inbox', '\\Drafts', '\\Sent', '\\Archive', '\\Junk', '\\Trash'];
function folderOrder(a: Folder, b: Folder): number {
  const rank = (folder: Folder) => {
    if (folder.path.toUpperCase() === 'INBOX') return 0;
    const index = folder.specialUse ? SPECIAL_ORDER.indexOf(folder.specialUse) : -1;
    return index >= 0 ? index + 1 : SPECIAL_ORDER.length + 1;
  };
  return rank(a) - rank(b) || a.path.localeCompare(b.path);
}

function addressList(addresses: { name?: string; address?: string }[] | undefined): string {
  return (addresses ?? []).map((a) => a.name || a.address || '').join(', ');
}

function summarize(message: FetchMessageObject): MessageSummary {
  const flags = message.flags ?? new Set<string>();
  const date = message.envelope?.date ?? (message.internalDate instanceof Date ? message.internalDate : null);
  return {
    uid: message.uid,
    date: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
    from: addressList(message.envelope?.from),
    to: addressList(message.envelope?.to),
    subject: message.envelope?.subject ?? '',
    size: message.size ?? 0,
    seen: flags.has('\\Seen'),
    flagged: flags.has('\\Flagged'),
    answered: flags.has('\\Answered'),
    hasAttachments: message.bodyStructure ? hasAttachment(message.bodyStructure) : false,
  };
}

function hasAttachment(part: MessageStructureObject): boolean {
  if (part.disposition === 'attachment') return true;
  return (part.childNodes ?? []).some(hasAttachment);
}

function notFound(): WebmailError {
  return new WebmailError(
    404,
    'message_not_found',
    'This message no longer exists; it may have been moved or deleted.',
  );
}

/** The server's NO in the user's words; anything unexpected becomes a plain 502 without internals. */
function imapFailure(error: unknown, fallback?: WebmailError): WebmailError {
  if (error instanceof WebmailError) return error;
  const failure = error as { responseStatus?: string; responseText?: string; code?: string };
  if (fallback && failure.responseStatus === 'NO') return fallback;
  if (failure.responseStatus === 'NO' || failure.responseStatus === 'BAD') {
    return new WebmailError(
      422,
      'refused',
      `The mail server refused: ${failure.responseText ?? 'no reason given'}`,
    );
  }
  if (failure.code === 'NoConnection' || failure.code === 'EConnectionClosed') {
    return new WebmailError(401, 'signed_out', 'Your session has ended. Sign in again.');
  }
  return new WebmailError(502, 'mail_error', 'The mail server did not answer as expected. Try again.');
}
