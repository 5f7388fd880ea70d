/**
 * The channel an account's mailbox changes are published on (mda deliveries, IMAP and POP3
 * flag changes, appends and expunges). One name for every publisher and every listener.
 * Payloads are hints: readers re-read the mailbox, so a lost one delays, never corrupts.
 */
export function mailboxChannel(accountId: string): string {
  return `correo.mailbox.${accountId}`;
}

/** The payload every writer (mda, pop3-gateway, imap-gateway) publishes after a mailbox changes. */
export interface MailboxChange {
  mailboxId: string;
  uid?: number;
  modseq: number;
  kind: 'append' | 'flags' | 'expunge' | 'copy' | 'move' | 'mailboxes';
}
