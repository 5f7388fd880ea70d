export type ParseErrorCode = 'TOOBIG' | 'BADCHARSET' | 'LIMIT' | 'NONEXISTENT' | 'CANNOT';

/**
 * A command the client sent is not valid IMAP syntax. `message` is written for the client: the session
 * answers `<tag> BAD <message>` (or `* BAD` when no tag could be read), with `code` as response code.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    /** The command's tag when it was read before the error, else null. */
    public tag: string | null = null,
    /**
     * TOOBIG: answer BAD [TOOBIG]. BADCHARSET: not a syntax error but an unsupported SEARCH charset,
     * answered NO [BADCHARSET (...)] (RFC 9051 6.4.4). LIMIT: the command is fine but the server has no
     * room for it now, answered NO [LIMIT]. NONEXISTENT / CANNOT: a mailbox name that is not valid
     * modified UTF-7, so no mailbox can have it: NO [NONEXISTENT] where it is looked up, NO [CANNOT]
     * where it would be made (RFC 5530; Dovecot answers NO too). errorResponse() in the serializer does them all.
     */
    public readonly code: ParseErrorCode | null = null,
  ) {
    super(message);
  }
}
