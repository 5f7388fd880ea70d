import type { Correspondent } from './api-types.js';
import type { WebmailSession } from './sessions.js';

/** How many of the newest messages of Sent and of INBOX are looked at: bounded work per session. */
const SCANNED_PER_FOLDER = 500;
/** Gathered again after this long, so new correspondents show up in a long session. */
const FRESH_MS = 5 * 60_000;
export const MAX_SUGGESTIONS = 10;

/**
 * Address autocomplete from the people the user has written to (Sent) and received from (INBOX),
 * read through the user's own IMAP session: per user and within the user's tenant by construction,
 * since nothing but that user's mail is ever looked at, and kept only in the session's memory.
 * Written-to counts above received-from: a reply goes to people one writes to.
 */
export async function suggestAddresses(
  session: WebmailSession,
  typed: string,
  now = Date.now(),
): Promise<Correspondent[]> {
  if (!session.correspondents || now - session.correspondents.at > FRESH_MS) {
    session.correspondents = { at: now, list: await gather(session) };
  }
  const words = typed.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  return session.correspondents.list
    .filter((c) => {
      const haystack = `${c.name} ${c.address}`.toLowerCase();
      return words.every((word) => haystack.includes(word));
    })
    .slice(0, MAX_SUGGESTIONS);
}

/** Someone the user just wrote to is at the top of the next suggestions without a new scan. */
export function rememberRecipients(session: WebmailSession, addresses: string[]): void {
  if (!session.correspondents) return;
  const added = new Set(addresses.map((a) => a.toLowerCase()));
  const rest = session.correspondents.list.filter((c) => !added.has(c.address.toLowerCase()));
  session.correspondents.list = [...addresses.map((address) => ({ address, name: '' })), ...rest];
}

async function gather(session: WebmailSession): Promise<Correspondent[]> {
  const account = session.account;
  const sent = await account.specialFolder('\\Sent');
  const written = sent === null ? [] : await account.correspondents(sent, SCANNED_PER_FOLDER);
  const received = await account.correspondents('INBOX', SCANNED_PER_FOLDER);
  const me = account.address.toLowerCase();
  const scores = new Map<string, { entry: Correspondent; score: number }>();
  const count = (entries: Correspondent[], weight: number) => {
    for (const entry of entries) {
      const key = entry.address.toLowerCase();
      if (key === me) continue;
      const known = scores.get(key);
      if (known) {
        known.score += weight;
        if (!known.entry.name && entry.name) known.entry.name = entry.name;
      } else {
        scores.set(key, { entry: { address: entry.address, name: entry.name }, score: weight });
      }
    }
  };
  count(written, 3);
  count(received, 1);
  return [...scores.values()].sort((a, b) => b.score - a.score).map(({ entry }) => entry);
}
