import type { ImapValue } from './encoder.js';
import { atom, encodeValues, num, str } from './encoder.js';
import { compressInOrder, compressSequenceSet } from './sequence-set.js';

/** Response codes that carry no data (RFC 9051 7.1, RFC 4315, RFC 5530, RFC 7162). */
export type PlainResponseCode =
  | 'ALERT'
  | 'ALREADYEXISTS'
  | 'AUTHENTICATIONFAILED'
  | 'AUTHORIZATIONFAILED'
  | 'CANNOT'
  | 'CLIENTBUG'
  | 'CLOSED'
  | 'CONTACTADMIN'
  | 'CORRUPTION'
  | 'EXPIRED'
  | 'EXPUNGEISSUED'
  | 'HASCHILDREN'
  | 'INUSE'
  | 'LIMIT'
  | 'NOMODSEQ'
  | 'NONEXISTENT'
  | 'NOPERM'
  | 'OVERQUOTA'
  | 'PARSE'
  | 'PRIVACYREQUIRED'
  | 'READ-ONLY'
  | 'READ-WRITE'
  | 'SERVERBUG'
  | 'TOOBIG'
  | 'TRYCREATE'
  | 'UIDNOTSTICKY'
  | 'UNAVAILABLE'
  | 'UNKNOWN-CTE'
  /** COMPRESS (RFC 4978): a layer is on already. */
  | 'COMPRESSIONACTIVE';

export type ResponseCode =
  | { code: PlainResponseCode }
  | { code: 'UIDVALIDITY' | 'UIDNEXT' | 'UNSEEN'; value: number }
  | { code: 'HIGHESTMODSEQ'; value: number | bigint }
  | { code: 'PERMANENTFLAGS'; flags: string[] }
  | { code: 'APPENDUID'; uidValidity: number; uids: number[] }
  /** Source and destination UIDs pair up by position. */
  | { code: 'COPYUID'; uidValidity: number; sourceUids: number[]; destinationUids: number[] }
  /** Messages STORE ... UNCHANGEDSINCE did not change (RFC 7162): message numbers, or UIDs for UID STORE. */
  | { code: 'MODIFIED'; numbers: number[] }
  | { code: 'CAPABILITY'; capabilities: string[] }
  | { code: 'BADCHARSET'; charsets: string[] }
  /** OBJECTID (RFC 8474 4): SELECT, EXAMINE and CREATE tell the mailbox's id. */
  | { code: 'MAILBOXID'; id: string }
  /** RFC 5464 4.2.1, 4.3: METADATA LONGENTRIES n / MAXSIZE n / TOOMANY / NOPRIVATE. */
  | { code: 'METADATA'; kind: 'LONGENTRIES' | 'MAXSIZE'; value: number }
  | { code: 'METADATA'; kind: 'TOOMANY' | 'NOPRIVATE' }
  /** RFC 5465 6: the events this server supports, after one it does not. */
  | { code: 'BADEVENT'; events: string[] }
  /** RFC 5267 4.3.1: the result of the command with this tag is not (or no longer) kept updated. */
  | { code: 'NOUPDATE'; tag: string }
  /** RFC 5465 5.8: notifications stopped, the client must resynchronise. */
  | { code: 'NOTIFICATIONOVERFLOW' };

function codeValues(c: ResponseCode): ImapValue[] {
  switch (c.code) {
    case 'UIDVALIDITY':
    case 'UIDNEXT':
    case 'UNSEEN':
    case 'HIGHESTMODSEQ':
      return [atom(c.code), num(c.value)];
    case 'PERMANENTFLAGS':
      return [atom(c.code), c.flags.map(atom)];
    case 'APPENDUID':
      return [atom(c.code), num(c.uidValidity), atom(compressInOrder(c.uids))];
    case 'COPYUID':
      return [
        atom(c.code),
        num(c.uidValidity),
        atom(compressInOrder(c.sourceUids)),
        atom(compressInOrder(c.destinationUids)),
      ];
    case 'MODIFIED':
      return [atom(c.code), atom(compressSequenceSet(c.numbers))];
    case 'CAPABILITY':
      return [atom(c.code), ...c.capabilities.map(atom)];
    case 'MAILBOXID':
      return [atom(c.code), [atom(c.id)]];
    case 'METADATA':
      return 'value' in c ? [atom(c.code), atom(c.kind), num(c.value)] : [atom(c.code), atom(c.kind)];
    case 'NOUPDATE':
      return [atom(c.code), str(c.tag)];
    case 'BADEVENT':
      return [atom(c.code), c.events.map(atom)];
    case 'BADCHARSET':
      return c.charsets.length ? [atom(c.code), c.charsets.map((s) => atom(s))] : [atom(c.code)];
    default:
      return [atom(c.code)];
  }
}

/** "[CODE data] " ready to prefix a response text. */
export function formatResponseCode(code: ResponseCode): string {
  return `[${encodeValues(codeValues(code)).toString('utf8')}] `;
}
