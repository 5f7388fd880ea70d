import type { ImapRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import type { SessionState } from '../session.js';
import { append } from './append.js';
import { authenticate } from './authenticate.js';
import { capability } from './capability.js';
import { close } from './close.js';
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
import { namespace } from './namespace.js';
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

interface Command<C extends ImapRequest['command']> {
  /** The states the command is valid in (RFC 9051 6). */
  states: readonly SessionState[];
  run(ctx: CommandContext, request: RequestOf<C>): Promise<Completion>;
}

const ANY: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
const NOT_AUTHENTICATED: readonly SessionState[] = ['not-authenticated'];
const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
const SELECTED: readonly SessionState[] = ['selected'];

/** Every command by name, with where it is allowed; each lives in its own file. */
export const COMMANDS: { [C in ImapRequest['command']]: Command<C> } = {
  CAPABILITY: { states: ANY, run: capability },
  NOOP: { states: ANY, run: noop },
  LOGOUT: { states: ANY, run: logout },
  ID: { states: ANY, run: id },
  STARTTLS: { states: NOT_AUTHENTICATED, run: starttls },
  LOGIN: { states: NOT_AUTHENTICATED, run: login },
  AUTHENTICATE: { states: NOT_AUTHENTICATED, run: authenticate },
  ENABLE: { states: AUTHENTICATED, run: enable },
  SELECT: { states: AUTHENTICATED, run: select },
  EXAMINE: { states: AUTHENTICATED, run: select },
  CREATE: { states: AUTHENTICATED, run: create },
  DELETE: { states: AUTHENTICATED, run: deleteMailbox },
  RENAME: { states: AUTHENTICATED, run: rename },
  SUBSCRIBE: { states: AUTHENTICATED, run: subscribe },
  UNSUBSCRIBE: { states: AUTHENTICATED, run: subscribe },
  LIST: { states: AUTHENTICATED, run: list },
  LSUB: { states: AUTHENTICATED, run: lsub },
  NAMESPACE: { states: AUTHENTICATED, run: namespace },
  STATUS: { states: AUTHENTICATED, run: status },
  APPEND: { states: AUTHENTICATED, run: append },
  IDLE: { states: AUTHENTICATED, run: idle },
  GETQUOTA: { states: AUTHENTICATED, run: getQuota },
  GETQUOTAROOT: { states: AUTHENTICATED, run: getQuotaRoot },
  CHECK: { states: SELECTED, run: noop },
  CLOSE: { states: SELECTED, run: close },
  UNSELECT: { states: SELECTED, run: close },
  EXPUNGE: { states: SELECTED, run: expunge },
  SEARCH: { states: SELECTED, run: search },
  SORT: { states: SELECTED, run: sort },
  THREAD: { states: SELECTED, run: thread },
  FETCH: { states: SELECTED, run: fetch },
  STORE: { states: SELECTED, run: store },
  COPY: { states: SELECTED, run: copy },
  MOVE: { states: SELECTED, run: copy },
};
