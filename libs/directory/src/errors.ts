/**
 * What a provisioning call refused, in terms the admin-api maps straight to HTTP: `invalid` (400),
 * `not-found` (404, also for other tenants' objects, which must look absent), `conflict` (409),
 * `forbidden` (403: an operator-only action attempted with a tenant's scope), `unprocessable` (422: well
 * formed but refused in the present state, e.g. a domain name that is not available, a TXT record not found).
 */
export type DirectoryErrorCode = 'invalid' | 'not-found' | 'conflict' | 'forbidden' | 'unprocessable';

export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
    /** The input field at fault, when there is one (e.g. `address`, `targets[2]`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

export const invalid = (field: string, message: string) => new DirectoryError('invalid', message, field);
export const notFound = (message: string) => new DirectoryError('not-found', message);
export const forbidden = (message: string) => new DirectoryError('forbidden', message);
export const unprocessable = (message: string, field?: string) =>
  new DirectoryError('unprocessable', message, field);
export const conflict = (message: string, field?: string) => new DirectoryError('conflict', message, field);

/** PostgreSQL's unique_violation, raised when a concurrent insert won the race our pre-check lost. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
