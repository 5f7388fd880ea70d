import type { ImapRequest } from '@correo/imap-proto';
import type {
  AuthenticatedContext,
  CommandContext,
  Completion,
  SelectedContext,
} from '../command-context.js';
import { append } from './append.js';
import { authenticate } from './authenticate.js';
import { cancelUpdate } from './cancelupdate.js';
import { capability } from './capability.js';
import { close } from './close.js';
import { compress } from './compress.js';
import { copy } from './copy.js';
import { create } from './create.js';
import { deleteMailbox } from './delete.js';
import { enable } from './enable.js';
import { expunge } from './expunge.js';
import { fetch } from './fetch.js';
import { id } from './id.js';
import { idle } from './idle.js';
import { list } from './list.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { lsub } from './lsub.js';
import { getMetadata, setMetadata } from './metadata.js';
import { namespace } from './namespace.js';
import { notify } from './notify.js';
import { noop } from './noop.js';
import { getQuota, getQuotaRoot } from './quota.js';
import { rename } from './rename.js';
import { search } from './search.js';
import { select } from './select.js';
import { sort } from './sort.js';
import { starttls } from './starttls.js';
import { status } from './status.js';
import { store } from './store.js';
import { subscribe } from './subscribe.js';
import { thread } from './thread.js';

type RequestOf<C extends ImapRequest['command']> = Extract<ImapRequest, { command: C }>;
type Run<Context, C extends ImapRequest['command']> = (
  ctx: Context,
  request: RequestOf<C>,
) => Promise<Completion>;

/**
 * Where a command is valid (RFC 9051 6) and what it gets there: `authenticated` commands run in the
 * authenticated and the selected state with the account, `selected` ones with the mailbox view too.
 */
type Command<C extends ImapRequest['command']> =
  | { validIn: 'any'; run: Run<CommandContext, C> }
  | { validIn: 'not-authenticated'; run: Run<CommandContext, C> }
  | { validIn: 'authenticated'; run: Run<AuthenticatedContext, C> }
  | { validIn: 'selected'; run: Run<SelectedContext, C> };

export type AnyCommand = { [C in ImapRequest['command']]: Command<C> }[ImapRequest['command']];

// Each takes the handler with the request type it accepts (SELECT's takes EXAMINE's too); the table's
// type then checks that it accepts the request of the name it is filed under.
const any = <R extends ImapRequest>(run: (ctx: CommandContext, request: R) => Promise<Completion>) => ({
  validIn: 'any' as const,
  run,
});
const notAuthenticated = <R extends ImapRequest>(
  run: (ctx: CommandContext, request: R) => Promise<Completion>,
) => ({ validIn: 'not-authenticated' as const, run });
const authenticated = <R extends ImapRequest>(
  run: (ctx: AuthenticatedContext, request: R) => Promise<Completion>,
) => ({ validIn: 'authenticated' as const, run });
const selected = <R extends ImapRequest>(run: (ctx: SelectedContext, request: R) => Promise<Completion>) => ({
  validIn: 'selected' as const,
  run,
});

/** Every command by name, with where it is allowed; each lives in its own file. */
export const COMMANDS: { [C in ImapRequest['command']]: Command<C> } = {
  CAPABILITY: any(capability),
  NOOP: any(noop),
  LOGOUT: any(logout),
  ID: any(id),
  STARTTLS: notAuthenticated(starttls),
  LOGIN: notAuthenticated(login),
  AUTHENTICATE: notAuthenticated(authenticate),
  ENABLE: authenticated(enable),
  SELECT: authenticated(select),
  EXAMINE: authenticated(select),
  CREATE: authenticated(create),
  DELETE: authenticated(deleteMailbox),
  RENAME: authenticated(rename),
  SUBSCRIBE: authenticated(subscribe),
  UNSUBSCRIBE: authenticated(subscribe),
  LIST: authenticated(list),
  LSUB: authenticated(lsub),
  NAMESPACE: authenticated(namespace),
  STATUS: authenticated(status),
  APPEND: authenticated(append),
  IDLE: authenticated(idle),
  GETQUOTA: authenticated(getQuota),
  GETQUOTAROOT: authenticated(getQuotaRoot),
  COMPRESS: authenticated(compress),
  GETMETADATA: authenticated(getMetadata),
  SETMETADATA: authenticated(setMetadata),
  NOTIFY: authenticated(notify),
  CHECK: selected(noop),
  CANCELUPDATE: selected(cancelUpdate),
  CLOSE: selected(close),
  UNSELECT: selected(close),
  EXPUNGE: selected(expunge),
  SEARCH: selected(search),
  SORT: selected(sort),
  THREAD: selected(thread),
  FETCH: selected(fetch),
  STORE: selected(store),
  COPY: selected(copy),
  MOVE: selected(copy),
};
