/** Where in the script something is, 1-based as editors count. */
export interface Position {
  line: number;
  column: number;
}

/** A script that cannot run: bad syntax, an unknown command or a missing `require`. */
export class SieveSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, position: Position) {
    super(`line ${position.line}, column ${position.column}: ${message}`);
    this.name = 'SieveSyntaxError';
    this.line = position.line;
    this.column = position.column;
  }
}

/** A script that went wrong while running (a limit hit): delivery falls back to keep (RFC 5228 2.10.6). */
export class SieveRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SieveRuntimeError';
  }
}
