/** RFC 4616 PLAIN credentials: [authzid] NUL authcid NUL passwd, carried in base64. */
export interface PlainCredentials {
  /** Empty when the client asked for no other identity. */
  authorizationId: string;
  login: string;
  password: string;
}

export type PlainResult = { ok: true; credentials: PlainCredentials } | { ok: false; error: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a PLAIN response. Strict base64 (Node's decoder silently skips garbage, which would turn
 * a typo into a different password). "=" is the empty response of RFC 5034 4.
 */
export function decodeSaslPlain(response: string): PlainResult {
  if (response === '=' || response === '') return { ok: false, error: 'Empty PLAIN response' };
  if (!BASE64.test(response)) return { ok: false, error: 'PLAIN response is not valid base64' };
  const decoded = Buffer.from(response, 'base64').toString('utf8');
  const parts = decoded.split('\0');
  if (parts.length !== 3) return { ok: false, error: 'PLAIN response must hold authzid, login and password' };
  const [authorizationId, login, password] = parts as [string, string, string];
  if (login === '' || password === '')
    return { ok: false, error: 'PLAIN response lacks a login or password' };
  return { ok: true, credentials: { authorizationId, login, password } };
}

export function encodeSaslPlain(login: string, password: string, authorizationId = ''): string {
  return Buffer.from(`${authorizationId}\0${login}\0${password}`, 'utf8').toString('base64');
}
