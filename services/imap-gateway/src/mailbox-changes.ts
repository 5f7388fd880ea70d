import { mailboxChannel, type MailboxChange, type Notifier, type Unsubscribe } from '@correo/notify';
import type { Logger } from '@correo/telemetry';

export { mailboxChannel, type MailboxChange };

/**
 * Tells other sessions (on any pod) that an account's mailboxes changed. A hint only: sessions re-read
 * the store, so a failed publish is logged, never thrown at a client whose change is committed.
 */
export class MailboxChanges {
  constructor(
    private readonly notifier: Notifier,
    private readonly logger: Logger,
  ) {}

  async publish(accountId: string, change: MailboxChange): Promise<void> {
    await this.notifier.publish(mailboxChannel(accountId), JSON.stringify(change)).catch((error: Error) => {
      this.logger.warn({ accountId, error: error.message }, 'mailbox-changed notification not published');
    });
  }

  /** `listener` gets the mailbox id of each change (null when the payload is not understood). */
  subscribe(accountId: string, listener: (mailboxId: string | null) => void): Promise<Unsubscribe> {
    return this.notifier.subscribe(mailboxChannel(accountId), (payload) => {
      let mailboxId: string | null = null;
      try {
        const parsed = JSON.parse(payload) as { mailboxId?: unknown };
        if (typeof parsed.mailboxId === 'string' || typeof parsed.mailboxId === 'number') {
          mailboxId = String(parsed.mailboxId);
        }
      } catch {
        // An unknown payload still means "something changed": re-read.
      }
      listener(mailboxId);
    });
  }
}
