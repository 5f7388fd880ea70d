import { addressListText } from './address.js';
import { sortKeys } from './sort-keys.js';
import type { SortKeys } from './sort-keys.js';
import type { AddressEntry, MessageAnalysis } from './types.js';

/**
 * What a stored copy of a message keeps from its analysis (the store's summary columns, ENVELOPE,
 * BODYSTRUCTURE and the search text), in one shape for every writer: the mda's deliveries and
 * IMAP APPEND. The caller adds where the bytes live and the internal date.
 */
export interface MessageSummary {
  sha256: string;
  size: number;
  subject: string | null;
  from: string | null;
  to: string | null;
  cc: string | null;
  messageId: string | null;
  date: Date | null;
  inReplyTo: string | null;
  envelope: MessageAnalysis['envelope'];
  bodystructure: MessageAnalysis['bodystructure'];
  /** The Date header's day in its own zone (YYYY-MM-DD), for SENTBEFORE/SENTON/SENTSINCE. */
  sentDay: string | null;
  /** Decoded header fields for SEARCH TEXT. */
  headerText: string;
  /**
   * Decoded body text for SEARCH BODY/TEXT substring tests; null when it was cut at the analyzer's
   * limit, so that search reads the message instead of answering from a part of it.
   */
  bodyText: string | null;
  /** What SORT and THREAD compare. */
  sortKeys: SortKeys;
}

export function messageSummary(analysis: MessageAnalysis): MessageSummary {
  const { headers } = analysis;
  return {
    sha256: analysis.sha256,
    size: analysis.size,
    subject: headers.subject,
    from: addressColumn(headers.from),
    to: addressColumn(headers.to),
    cc: addressColumn(headers.cc),
    messageId: headers.messageId,
    date: headers.date,
    inReplyTo: headers.inReplyTo,
    envelope: analysis.envelope,
    bodystructure: analysis.bodystructure,
    sentDay: headers.sentDay,
    headerText: analysis.headerText,
    bodyText: analysis.searchTextTruncated ? null : analysis.searchText,
    sortKeys: sortKeys({
      subject: headers.subject,
      from: analysis.envelope.from,
      to: analysis.envelope.to,
      cc: analysis.envelope.cc,
      messageId: analysis.rawHeaders.messageId,
      inReplyTo: analysis.rawHeaders.inReplyTo,
      references: analysis.rawHeaders.references,
    }),
  };
}

/** Decoded `Name <mailbox>` entries, as the summary columns hold them; null when the field is empty. */
function addressColumn(entries: AddressEntry[]): string | null {
  const text = addressListText(entries);
  return text === '' ? null : text;
}
