import { MAILBOX_DELIMITER } from '@correo/store';

/**
 * A mailbox name as the store keeps it, or null when it cannot be one: INBOX in any case is INBOX, a
 * trailing delimiter is dropped (RFC 9051 6.3.4), empty levels are refused.
 */
export function storedMailboxName(name: string): string | null {
  let trimmed = name;
  while (trimmed.endsWith(MAILBOX_DELIMITER)) trimmed = trimmed.slice(0, -1);
  if (trimmed === '' || trimmed.startsWith(MAILBOX_DELIMITER) || trimmed.includes('//')) return null;
  if (/[\0\r\n]/.test(trimmed) || [...trimmed].length > 255) return null;
  if (trimmed.toUpperCase() === 'INBOX') return 'INBOX';
  // "inbox/x" is a child of INBOX.
  const [first, ...rest] = trimmed.split(MAILBOX_DELIMITER);
  if (first!.toUpperCase() === 'INBOX') return ['INBOX', ...rest].join(MAILBOX_DELIMITER);
  return trimmed;
}

/** LIST's reference + pattern as a matcher: "*" matches anything, "%" anything but the delimiter. */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = pattern.startsWith(MAILBOX_DELIMITER) || reference === '' ? pattern : reference + pattern;
  let source = '';
  for (const ch of full) {
    if (ch === '*') source += '.*';
    else if (ch === '%') source += '[^/]*';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const exact = new RegExp(`^${source}$`, 'u');
  // INBOX is case-insensitive, also as the first level of a pattern.
  const inboxFirst = /^inbox(\/|$)/i.test(full)
    ? new RegExp(`^${source.replace(/^inbox/i, 'INBOX')}$`, 'u')
    : null;
  return (name) => exact.test(name) || (inboxFirst !== null && inboxFirst.test(name));
}
