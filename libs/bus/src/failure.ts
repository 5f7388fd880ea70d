/**
 * Why a handler failed decides what the bus does with the message. A backend that is down
 * (PostgreSQL failing over, S3 answering 503, a broker moving) says nothing about the message:
 * it would fail the same way for every message, so the consumer waits for the backend and never
 * dead-letters. Anything else (a message that cannot be decoded, a bug) is the message's own
 * failure: it is retried a bounded number of times and then dead-lettered, so one bad message
 * cannot hold up the mail behind it.
 */
export type FailureKind = 'backend' | 'message';

/**
 * Node's error codes of a peer or the path to it being gone, or of a local disk that is full or
 * failing (the files blob store): none of them is the request's fault.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOTCONN',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or overloaded, or of a transaction that lost a race
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html): 08 connection exception,
 * 53 insufficient resources, 57P01-57P05 shutdown/crash/cannot connect now/idle timeouts,
 * 58 system error (I/O), 40001 serialization failure, 40P01 deadlock, 55P03 lock not available.
 */
function isTransientSqlState(code: string): boolean {
  return (
    /^(08|53|58)[0-9A-Z]{3}$/.test(code) ||
    /^57P0[1-5]$/.test(code) ||
    code === '40001' ||
    code === '40P01' ||
    code === '55P03'
  );
}

/** What node-postgres says when the socket, not the server's answer, failed. */
const PG_CONNECTION_TEXT =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable|Query read timeout)/;

/** AWS SDK v3 error names of a service that is busy or a request that timed out. */
const S3_TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'ThrottlingException',
  'Throttling',
  'RequestTimeTooSkewed',
]);

interface ErrorFields {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  retriable?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function isBackendError(error: ErrorFields): boolean {
  const { code, name, message } = error;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isTransientSqlState(code))) return true;
  if (typeof message === 'string' && PG_CONNECTION_TEXT.test(message)) return true;
  // AbortSignal.timeout() and the SDKs' own request timers.
  if (name === 'TimeoutError' || (typeof name === 'string' && S3_TRANSIENT_NAMES.has(name))) return true;
  const status = error.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429 || status === 408)) return true;
  if (error.$retryable !== undefined && error.$retryable !== null) return true;
  // kafkajs marks what a retry can fix (connection, leader moved, request timeout).
  if (typeof name === 'string' && name.startsWith('KafkaJS') && error.retriable === true) return true;
  return false;
}

/**
 * Walks the error, its `cause` chain and an AggregateError's members (a connect that tried IPv4
 * and IPv6): one backend failure anywhere inside makes the whole failure a backend one, since
 * libraries wrap the network error in their own (kafkajs's "retries exceeded", our "S3 not reachable").
 */
export function classifyFailure(error: unknown): FailureKind {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 32) {
    const current = pending.pop();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const fields = current as ErrorFields;
    if (isBackendError(fields)) return 'backend';
    if (fields.cause !== undefined) pending.push(fields.cause);
    if (Array.isArray(fields.errors)) pending.push(...(fields.errors as unknown[]));
  }
  return 'message';
}
