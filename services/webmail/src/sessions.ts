import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MailAccount } from './mail-account.js';
import type { Correspondent } from './api-types.js';
import type { ParsedMessage } from './message-view.js';
import type { Uploads } from './uploads.js';

export interface WebmailSession {
  id: string;
  /** Synchronizer token: the front end sends it back on every state change (X-CSRF-Token). */
  csrfToken: string;
  account: MailAccount;
  lastSeen: number;
  /** The last message opened: the reading pane asks for its body and attachments right after. */
  lastMessage?: { key: string; message: ParsedMessage };
  /** Attachments uploaded for the compose form (created on the first upload). */
  uploads?: Uploads;
  /** Recent correspondents for address autocomplete, gathered once per session (correspondents.ts). */
  correspondents?: { at: number; list: Correspondent[] };
}

/**
 * Signed-in sessions, in this process's memory: each holds a live IMAP connection, so a session
 * belongs to the pod that made it (the chart's Service uses client-IP affinity). A session nobody
 * used for `idleMs` ends, and so does its IMAP connection; so does one whose connection dropped.
 */
export class SessionStore {
  readonly #sessions = new Map<string, WebmailSession>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly idleMs: number) {
    this.#sweeper = setInterval(() => void this.sweep(), Math.min(idleMs / 4, 30_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  create(account: MailAccount): WebmailSession {
    const session: WebmailSession = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      account,
      lastSeen: Date.now(),
    };
    this.#sessions.set(session.id, session);
    account.once('closed', () => {
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    });
    return session;
  }

  /** The live session with this id, marked as used now; undefined when unknown, expired or dropped. */
  touch(id: string | undefined): WebmailSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (this.expired(session) || session.account.closed) {
      void this.end(session);
      return undefined;
    }
    session.lastSeen = Date.now();
    return session;
  }

  async end(session: WebmailSession): Promise<void> {
    this.#sessions.delete(session.id);
    await session.account.close();
  }

  async sweep(): Promise<void> {
    await Promise.all([...this.#sessions.values()].filter((s) => this.expired(s)).map((s) => this.end(s)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.end(s)));
  }

  private expired(session: WebmailSession): boolean {
    return Date.now() - session.lastSeen > this.idleMs;
  }
}

export function sameToken(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
