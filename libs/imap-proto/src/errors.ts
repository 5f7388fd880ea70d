export type ParseErrorCode = 'TOOBIG' | 'BADCHARSET' | 'LIMIT';

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
     * room for it now, answered NO [LIMIT]. errorResponse() in the serializer does all three.
     */
    public readonly code: ParseErrorCode | null = null,
  ) {
    super(message);
  }
}
