import { readTag } from '../lexer/atom.js';
import type { ParseOptions } from '../lexer/reader.js';
import { Reader } from '../lexer/reader.js';
import type { AppendRequest } from './append.js';
import { parseAppend } from './append.js';
import type { AuthenticateRequest } from './authenticate.js';
import { parseAuthenticate } from './authenticate.js';
import type { CancelUpdateRequest } from './cancelupdate.js';
import { parseCancelUpdate } from './cancelupdate.js';
import type { CapabilityRequest } from './capability.js';
import { parseCapability } from './capability.js';
import type { CheckRequest } from './check.js';
import { parseCheck } from './check.js';
import type { CloseRequest } from './close.js';
import { parseClose } from './close.js';
import type { CopyRequest } from './copy.js';
import { parseCopy } from './copy.js';
import type { CompressRequest } from './compress.js';
import { parseCompress } from './compress.js';
import type { CreateRequest } from './create.js';
import { parseCreate } from './create.js';
import type { DeleteRequest } from './delete.js';
import { parseDelete } from './delete.js';
import type { EnableRequest } from './enable.js';
import { parseEnable } from './enable.js';
import type { ExpungeRequest } from './expunge.js';
import { parseExpunge } from './expunge.js';
import type { FetchRequest } from './fetch.js';
import { parseFetch } from './fetch.js';
import type { GetQuotaRequest } from './getquota.js';
import { parseGetQuota } from './getquota.js';
import type { GetQuotaRootRequest } from './getquotaroot.js';
import { parseGetQuotaRoot } from './getquotaroot.js';
import type { IdRequest } from './id.js';
import { parseId } from './id.js';
import type { IdleRequest } from './idle.js';
import { parseIdle } from './idle.js';
import type { ListRequest } from './list.js';
import { parseList } from './list.js';
import type { LoginRequest } from './login.js';
import { parseLogin } from './login.js';
import type { LogoutRequest } from './logout.js';
import { parseLogout } from './logout.js';
import type { LsubRequest } from './lsub.js';
import { parseLsub } from './lsub.js';
import { parseMove } from './move.js';
import type { NamespaceRequest } from './namespace.js';
import { parseNamespace } from './namespace.js';
import type { GetMetadataRequest, SetMetadataRequest } from './metadata.js';
import { parseGetMetadata, parseSetMetadata } from './metadata.js';
import type { NoopRequest } from './noop.js';
import { parseNoop } from './noop.js';
import type { NotifyRequest } from './notify.js';
import { parseNotify } from './notify.js';
import type { RenameRequest } from './rename.js';
import { parseRename } from './rename.js';
import type { SearchRequest } from './search.js';
import { parseSearch } from './search.js';
import type { SelectRequest } from './select.js';
import type { SortRequest } from './sort.js';
import { parseSort } from './sort.js';
import type { ThreadRequest } from './thread.js';
import { parseThread } from './thread.js';
import { parseSelect } from './select.js';
import type { StartTlsRequest } from './starttls.js';
import { parseStartTls } from './starttls.js';
import type { StatusRequest } from './status.js';
import { parseStatus } from './status.js';
import type { StoreRequest } from './store.js';
import { parseStore } from './store.js';
import type { SubscribeRequest } from './subscribe.js';
import { parseSubscribe } from './subscribe.js';
import type { UnselectRequest } from './unselect.js';
import { parseUnselect } from './unselect.js';
import type { UnsubscribeRequest } from './unsubscribe.js';
import { parseUnsubscribe } from './unsubscribe.js';

export type ImapRequest =
  | AppendRequest
  | AuthenticateRequest
  | CancelUpdateRequest
  | CapabilityRequest
  | CheckRequest
  | CloseRequest
  | CompressRequest
  | CopyRequest
  | CreateRequest
  | DeleteRequest
  | EnableRequest
  | ExpungeRequest
  | FetchRequest
  | GetQuotaRequest
  | GetQuotaRootRequest
  | GetMetadataRequest
  | SetMetadataRequest
  | NotifyRequest
  | IdRequest
  | IdleRequest
  | ListRequest
  | LoginRequest
  | LogoutRequest
  | LsubRequest
  | NamespaceRequest
  | NoopRequest
  | RenameRequest
  | SearchRequest
  | SelectRequest
  | SortRequest
  | StartTlsRequest
  | StatusRequest
  | StoreRequest
  | SubscribeRequest
  | ThreadRequest
  | UnselectRequest
  | UnsubscribeRequest;

export interface ImapCommand {
  tag: string;
  request: ImapRequest;
}

const COMMANDS: Record<string, (r: Reader) => ImapRequest> = {
  APPEND: parseAppend,
  AUTHENTICATE: parseAuthenticate,
  CANCELUPDATE: parseCancelUpdate,
  CAPABILITY: parseCapability,
  CHECK: parseCheck,
  CLOSE: parseClose,
  COMPRESS: parseCompress,
  COPY: (r) => parseCopy(r, 'COPY', false),
  CREATE: parseCreate,
  DELETE: parseDelete,
  ENABLE: parseEnable,
  EXAMINE: (r) => parseSelect(r, 'EXAMINE'),
  EXPUNGE: (r) => parseExpunge(r, false),
  FETCH: (r) => parseFetch(r, false),
  GETQUOTA: parseGetQuota,
  GETQUOTAROOT: parseGetQuotaRoot,
  GETMETADATA: parseGetMetadata,
  SETMETADATA: parseSetMetadata,
  NOTIFY: parseNotify,
  ID: parseId,
  IDLE: parseIdle,
  LIST: parseList,
  LOGIN: parseLogin,
  LOGOUT: parseLogout,
  LSUB: parseLsub,
  MOVE: (r) => parseMove(r, false),
  NAMESPACE: parseNamespace,
  NOOP: parseNoop,
  RENAME: parseRename,
  SEARCH: (r) => parseSearch(r, false),
  SELECT: (r) => parseSelect(r, 'SELECT'),
  SORT: (r) => parseSort(r, false),
  STARTTLS: parseStartTls,
  STATUS: parseStatus,
  STORE: (r) => parseStore(r, false),
  SUBSCRIBE: parseSubscribe,
  THREAD: (r) => parseThread(r, false),
  UNSELECT: parseUnselect,
  UNSUBSCRIBE: parseUnsubscribe,
};

const UID_COMMANDS: Record<string, (r: Reader) => ImapRequest> = {
  COPY: (r) => parseCopy(r, 'COPY', true),
  EXPUNGE: (r) => parseExpunge(r, true),
  FETCH: (r) => parseFetch(r, true),
  MOVE: (r) => parseMove(r, true),
  SEARCH: (r) => parseSearch(r, true),
  SORT: (r) => parseSort(r, true),
  STORE: (r) => parseStore(r, true),
  THREAD: (r) => parseThread(r, true),
};

/**
 * Parses one complete command as the receiver frames it (literals inline, final CRLF removed).
 * Throws ParseError, with the tag when one was read, for anything that is not valid syntax.
 */
export function parseCommand(bytes: Buffer, options: ParseOptions = {}): ImapCommand {
  const r: Reader = new Reader(bytes, options);
  const tag = readTag(r);
  r.sp('the tag');
  let name = r.keyword('a command name');
  let table = COMMANDS;
  if (name === 'UID') {
    r.sp('UID');
    name = r.keyword('a command after UID');
    table = UID_COMMANDS;
    if (!table[name])
      r.fail(
        `UID ${name} is not a command (UID goes with FETCH, SEARCH, SORT, THREAD, STORE, COPY, MOVE or EXPUNGE)`,
      );
  }
  const parse = table[name];
  if (!parse) r.fail(`Unknown command ${name.slice(0, 40)}`);
  return { tag, request: parse(r) };
}

/** The tag at the start of a command line, or null when the line does not start with a valid one. */
export function peekTag(line: Buffer): string | null {
  const r = new Reader(line);
  try {
    const tag = readTag(r);
    return r.peek() === 0x20 || r.atEnd ? tag : null;
  } catch {
    return null;
  }
}
