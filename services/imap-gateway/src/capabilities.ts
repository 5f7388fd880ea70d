import { SASL_MECHANISMS } from '@correo/auth';

/** What the server says it can do, by session state (RFC 9051 7.2.2). */
export function capabilities(options: {
  authenticated: boolean;
  tlsActive: boolean;
  loginAllowed: boolean;
  appendLimit: number;
}): string[] {
  const base = [
    'IMAP4rev1',
    'IMAP4rev2',
    'LITERAL+',
    'SASL-IR',
    'ID',
    'ENABLE',
    'IDLE',
    'NAMESPACE',
    'UNSELECT',
  ];
  if (!options.authenticated) {
    // Before login only small literals are taken (PRE_AUTH_LITERAL_LIMIT): LITERAL- (RFC 7888).
    const pre = base.map((capability) => (capability === 'LITERAL+' ? 'LITERAL-' : capability));
    // Every listener has a certificate (configured or self-signed), so STARTTLS is always offered.
    if (!options.tlsActive) pre.push('STARTTLS');
    if (options.loginAllowed) pre.push(...SASL_MECHANISMS.map((mechanism) => `AUTH=${mechanism}`));
    else pre.push('LOGINDISABLED');
    return pre;
  }
  return [
    ...base,
    'UIDPLUS',
    'MOVE',
    'CHILDREN',
    'SPECIAL-USE',
    'CREATE-SPECIAL-USE',
    'LIST-EXTENDED',
    'LIST-STATUS',
    'STATUS=SIZE',
    'ESEARCH',
    'SEARCHRES',
    'SORT',
    'SORT=DISPLAY',
    'ESORT',
    'THREAD=ORDEREDSUBJECT',
    'THREAD=REFERENCES',
    'CONDSTORE',
    'QRESYNC',
    'QUOTA',
    'QUOTA=RES-STORAGE',
    'MULTIAPPEND',
    `APPENDLIMIT=${options.appendLimit}`,
    'UTF8=ACCEPT',
    'METADATA',
    'METADATA-SERVER',
    'NOTIFY',
    'CONTEXT=SEARCH',
    'CONTEXT=SORT',
    'BINARY',
    'COMPRESS=DEFLATE',
    'OBJECTID',
    'PREVIEW',
    'SAVEDATE',
    'WITHIN',
  ];
}

/** ENABLE-able extensions (RFC 5161); QRESYNC implies CONDSTORE. */
export const ENABLEABLE = ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2'] as const;
