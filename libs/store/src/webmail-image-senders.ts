import type { Pool } from './pool.js';

/** A user's list stops growing here: one click per sender, so a real list is far shorter. */
export const MAX_IMAGE_SENDERS_PER_ACCOUNT = 5000;

/**
 * The webmail's "always show remote images from this sender", per account (migration 0250). The
 * account is named by its address: the webmail knows who signed in (an IMAP login proved it), not
 * the account's id.
 */
export interface ImageSenderList {
  isAllowed(account: string, sender: string): Promise<boolean>;
  /** False when the account already holds the most senders it may. */
  allow(account: string, sender: string): Promise<boolean>;
  forget(account: string, sender: string): Promise<void>;
}

export function createImageSenderList(pool: Pool): ImageSenderList {
  return {
    async isAllowed(account, sender) {
      const { rowCount } = await pool.query(
        `SELECT 1 FROM webmail_image_senders s JOIN accounts a ON a.id = s.account_id
         WHERE lower(a.address) = lower($1) AND s.sender = lower($2)`,
        [account, sender],
      );
      return (rowCount ?? 0) > 0;
    },
    async allow(account, sender) {
      // One statement: the count check and the insert see the same rows (a second tab racing this
      // one may add one more at worst, never an unbounded number).
      const { rowCount } = await pool.query(
        `INSERT INTO webmail_image_senders (account_id, sender)
         SELECT a.id, lower($2) FROM accounts a
         WHERE lower(a.address) = lower($1)
           AND (SELECT count(*) FROM webmail_image_senders s WHERE s.account_id = a.id) < $3
         ON CONFLICT (account_id, sender) DO NOTHING`,
        [account, sender, MAX_IMAGE_SENDERS_PER_ACCOUNT],
      );
      if ((rowCount ?? 0) > 0) return true;
      return this.isAllowed(account, sender);
    },
    async forget(account, sender) {
      await pool.query(
        `DELETE FROM webmail_image_senders s USING accounts a
         WHERE a.id = s.account_id AND lower(a.address) = lower($1) AND s.sender = lower($2)`,
        [account, sender],
      );
    },
  };
}
