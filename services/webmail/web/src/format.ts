import type { Folder } from './api.js';

const SPECIAL_NAMES: Record<string, string> = {
  '\\Sent': 'Sent',
  '\\Drafts': 'Drafts',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
};

export function folderLabel(folder: Folder): string {
  if (folder.path.toUpperCase() === 'INBOX') return 'Inbox';
  return (folder.specialUse && SPECIAL_NAMES[folder.specialUse]) || folder.name;
}

/** Today: the time; this year: day and month; else the full date. `full` always says everything. */
export function formatDate(iso: string | null, full = false): string {
  if (!iso) return '';
  const date = new Date(iso);
  const now = new Date();
  if (full) return date.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  if (date.getFullYear() === now.getFullYear()) {
    return date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  }
  return date.toLocaleDateString();
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The answered text, quoted the way mail clients have always done it. */
export function quote(from: string, date: string | null, text: string): string {
  const when = date ? new Date(date).toLocaleString() : 'an unknown date';
  const quoted = text
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => (line.startsWith('>') ? `>${line}` : `> ${line}`))
    .join('\n');
  return `On ${when}, ${from} wrote:\n${quoted}\n`;
}
