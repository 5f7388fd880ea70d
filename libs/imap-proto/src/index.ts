/**
 * @correo/imap-proto: pure IMAP4rev1 / IMAP4rev2 syntax. The receiver frames bytes into commands, the
 * parsers turn a command into a typed request, and the serializer writes every server response.
 */
export { ParseError } from './errors.js';
export type { ParseErrorCode } from './errors.js';
export { CommandReceiver, FrameError, literalAtLineEnd } from './receiver.js';
export type { FrameErrorKind, LiteralSink, ReceiverEvent, ReceiverOptions } from './receiver.js';

export { parseCommand, peekTag } from './parse/index.js';
export type { ImapCommand, ImapRequest } from './parse/index.js';
export type { ParseOptions } from './lexer/reader.js';
export { isIdleDone } from './parse/idle.js';
export type { AppendMessage, AppendRequest } from './parse/append.js';
export type { AuthenticateRequest } from './parse/authenticate.js';
export type { CancelUpdateRequest } from './parse/cancelupdate.js';
export type { CapabilityRequest } from './parse/capability.js';
export type { CheckRequest } from './parse/check.js';
export type { CloseRequest } from './parse/close.js';
export type { CompressRequest } from './parse/compress.js';
export type { CopyRequest } from './parse/copy.js';
export type { CreateRequest } from './parse/create.js';
export type { DeleteRequest } from './parse/delete.js';
export type { EnableRequest } from './parse/enable.js';
export type { ExpungeRequest } from './parse/expunge.js';
export type { FetchAttribute, FetchRequest, SimpleFetchItem } from './parse/fetch.js';
export type { GetQuotaRequest } from './parse/getquota.js';
export type { GetQuotaRootRequest } from './parse/getquotaroot.js';
export { validMetadataEntry } from './parse/metadata.js';
export type {
  GetMetadataRequest,
  MetadataDepth,
  MetadataEntryValue,
  SetMetadataRequest,
} from './parse/metadata.js';
export { MAILBOX_EVENTS, MESSAGE_EVENTS, USER_EVENTS } from './parse/notify.js';
export type { NotifyEvent, NotifyEventGroup, NotifyFilter, NotifyRequest } from './parse/notify.js';
export type { IdRequest } from './parse/id.js';
export type { IdleRequest } from './parse/idle.js';
export type { ListRequest, ListReturn, ListSelection } from './parse/list.js';
export type { LoginRequest } from './parse/login.js';
export type { LogoutRequest } from './parse/logout.js';
export type { LsubRequest } from './parse/lsub.js';
export type { MoveRequest } from './parse/move.js';
export type { NamespaceRequest } from './parse/namespace.js';
export type { NoopRequest } from './parse/noop.js';
export type { RenameRequest } from './parse/rename.js';
export type { ResultRange, SearchRequest, SearchReturnOption } from './parse/search.js';
export type { DateSearchKey, FlagSearchKey, SearchKey, TextSearchKey } from './parse/search-key.js';
export type { PartialRange, Section } from './parse/section.js';
export type { QresyncParams, SelectRequest } from './parse/select.js';
export { SORT_KEYS } from './parse/sort.js';
export type { SortCriterion, SortKey, SortRequest, SortReturnOption } from './parse/sort.js';
export { THREAD_ALGORITHMS } from './parse/thread.js';
export type { ThreadAlgorithm, ThreadRequest } from './parse/thread.js';
export type { StartTlsRequest } from './parse/starttls.js';
export type { StatusRequest } from './parse/status.js';
export { STATUS_ITEMS } from './parse/status-items.js';
export type { StatusItem } from './parse/status-items.js';
export type { StoreRequest } from './parse/store.js';
export type { SubscribeRequest } from './parse/subscribe.js';
export type { UnselectRequest } from './parse/unselect.js';
export type { UnsubscribeRequest } from './parse/unsubscribe.js';

export type { ImapDate } from './lexer/date.js';
export type { SeqNumber, SequenceRange, SequenceSet } from './lexer/sequence-set.js';
export { resolveSequenceSet, sequenceSetHas } from './lexer/sequence-set.js';
export { canonicalFlag } from './lexer/flags.js';
export { decodeMailboxName, encodeMailboxName } from './mutf7.js';

export { atom, astr, encodeValues, mailboxValue, nstr, num, str, untagged } from './serialize/encoder.js';
export type { EncodeOptions, ImapValue, LiteralStream, ResponsePart } from './serialize/encoder.js';
export { compressInOrder, compressSequenceSet, formatSequenceSet } from './serialize/sequence-set.js';
export { formatDate, formatDateTime } from './serialize/date.js';
export { formatResponseCode } from './serialize/response-code.js';
export type { PlainResponseCode, ResponseCode } from './serialize/response-code.js';
export {
  continuation,
  errorResponse,
  saslChallenge,
  SEARCH_CHARSETS,
  taggedResponse,
  untaggedStatus,
} from './serialize/status-response.js';
export type { CompletionStatus, UntaggedStatus } from './serialize/status-response.js';
export { capabilityResponse, enabledResponse } from './serialize/capability.js';
export { listResponse, lsubResponse } from './serialize/list.js';
export type { ListEntry } from './serialize/list.js';
export { statusResponse } from './serialize/status.js';
export {
  existsResponse,
  expungeResponse,
  flagsResponse,
  recentResponse,
  vanishedResponse,
} from './serialize/mailbox-data.js';
export { esearchResponse, searchResponse, sortResponse } from './serialize/search.js';
export { threadResponse } from './serialize/thread.js';
export type { ThreadNode } from './serialize/thread.js';
export type { ContextChange, EsearchResult } from './serialize/search.js';
export { fetchResponse, fetchResponseParts, viewFetchText } from './serialize/fetch.js';
export type { FetchItem, ViewFetchItem } from './serialize/fetch.js';
export { envelopeValue } from './serialize/envelope.js';
export { bodyStructureValue } from './serialize/bodystructure.js';
export { formatSection } from './serialize/section.js';
export { quotaResponse, quotaRootResponse } from './serialize/quota.js';
export type { QuotaResource } from './serialize/quota.js';
export { idResponse } from './serialize/id.js';
export { metadataEntriesResponse, metadataResponse } from './serialize/metadata.js';
export { namespaceResponse } from './serialize/namespace.js';
export type { Namespace } from './serialize/namespace.js';
