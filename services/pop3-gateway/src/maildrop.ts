import type { MaildropContents, MaildropEntry } from './maildrop-store.js';

export type Lookup = { ok: true; entry: MaildropEntry } | { ok: false; error: string };

/**
 * One session's view of the maildrop (RFC 1939 5): messages numbered from 1 as they were at login,
 * and the set marked deleted, which only QUIT turns into an expunge.
 */
export class Maildrop {
  private readonly deleted = new Set<number>();

  constructor(readonly contents: MaildropContents) {}

  get mailboxId(): string {
    return this.contents.mailboxId;
  }

  /** Messages not marked deleted, and their octets. */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    this.contents.messages.forEach((entry, i) => {
      if (this.deleted.has(i + 1)) return;
      count++;
      octets += entry.octets;
    });
    return { count, octets };
  }

  lookup(number: number): Lookup {
    const entry = this.contents.messages[number - 1];
    if (!entry) return { ok: false, error: `No message ${number}` };
    if (this.deleted.has(number)) return { ok: false, error: `Message ${number} is already deleted` };
    return { ok: true, entry };
  }

  /** Message numbers and entries not marked deleted, in order. */
  *live(): Generator<[number, MaildropEntry]> {
    for (let i = 0; i < this.contents.messages.length; i++) {
      if (!this.deleted.has(i + 1)) yield [i + 1, this.contents.messages[i]!];
    }
  }

  /** The first message after `number` not marked deleted: what a client reading in order asks for next. */
  nextLive(number: number): MaildropEntry | undefined {
    for (let next = number + 1; next <= this.contents.messages.length; next++) {
      if (!this.deleted.has(next)) return this.contents.messages[next - 1];
    }
    return undefined;
  }

  markDeleted(number: number): Lookup {
    const found = this.lookup(number);
    if (found.ok) this.deleted.add(number);
    return found;
  }

  unmarkAll(): void {
    this.deleted.clear();
  }

  /** Stable forever and the same on every pod: UIDVALIDITY and UID never change for a stored message. */
  uniqueId(entry: MaildropEntry): string {
    return `${this.contents.uidvalidity}.${entry.uid}`;
  }

  deletedUids(): number[] {
    return [...this.deleted].map((number) => this.contents.messages[number - 1]!.uid);
  }
}
