import type { AccountRef } from '@correo/directory';
import { findImapMailbox, type ImapMailbox } from '@correo/store';
import {
  ParseError,
  capabilityResponse,
  errorResponse,
  parseCommand,
  taggedResponse,
  untaggedStatus,
} from '@correo/imap-proto';
import type { EncodeOptions, ImapRequest, ParseOptions } from '@correo/imap-proto';
import type { Unsubscribe } from '@correo/notify';
import { capabilities } from './capabilities.js';
import type { CommandContext, Completion, GatewayServices, SessionIo } from './command-context.js';
import { BrokenResponseError, bad, no } from './command-context.js';
import { COMMANDS } from './commands/index.js';
import type { AnyCommand } from './commands/index.js';
import { fetch } from './commands/fetch.js';
import type { MailboxView } from './mailbox-view.js';
import type { StreamedUpload } from './message-facts.js';
import { imapMetrics } from './metrics.js';
import type { SessionNotifications } from './notifications.js';
import { writeContextUpdates } from './search-contexts.js';

/**
 * RFC 9051 3: what the session holds in each state. Only the authenticated and selected states know the
 * account, only the selected state has a mailbox view; a command registered for a state receives what
 * that state holds (commands/index.ts), so no command asks whether it is there. Logout keeps the account
 * until the connection is closed, to give its per-account slot back.
 */
export type SessionState =
  | { name: 'not-authenticated' }
  | { name: 'authenticated'; account: AccountRef }
  | { name: 'selected'; account: AccountRef; view: MailboxView }
  | { name: 'logout'; account: AccountRef | null };

export type SessionStateName = SessionState['name'];

/** RFC 9051 7.5.1: while answering these (not their UID forms) the server must not send EXPUNGE. */
const NO_EXPUNGE_DURING = new Set(['FETCH', 'STORE', 'SEARCH']);

/** Commands that create, delete, rename or (un)subscribe mailboxes: looked-up names are forgotten. */
const MAILBOX_COMMANDS = new Set(['CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE']);

/** Commands that turn CONDSTORE on by asking for it, not as a side effect (RFC 7162 3.1). */
const EXPLICIT_CONDSTORE = new Set(['ENABLE', 'SELECT', 'EXAMINE']);

/**
 * One IMAP session: its state (RFC 9051 3), the account, the selected mailbox's view and the enabled
 * extensions. Commands (one file each under commands/) act on it; this class parses, checks the state,
 * runs them and then reports what other sessions changed, before the tagged completion.
 */
export class ImapSession {
  private current: SessionState = { name: 'not-authenticated' };
  /** ENABLEd extensions (upper case): CONDSTORE, QRESYNC, UTF8=ACCEPT, IMAP4REV2. */
  readonly enabled = new Set<string>();
  authFailures = 0;
  /** COMPRESS=DEFLATE is on (RFC 4978): a second COMPRESS gets NO [COMPRESSIONACTIVE]. */
  compressionActive = false;
  /** The selected mailbox must be read again at the next sync (a command's own write, an unreadable change). */
  dirty = false;
  /**
   * The highest MODSEQ announced for the selected mailbox. The view is stale only when this is above
   * what it has read: the echo of the session's own STORE or EXPUNGE (already in the view) costs nothing.
   */
  private get heardModseq(): number {
    const state = this.current;
    return state.name === 'selected' ? (this.heard.get(state.view.mailboxId) ?? 0) : 0;
  }
  /**
   * The highest MODSEQ heard per mailbox of the account: the selected one's, and every other's since
   * the last SELECT or EXAMINE took effect (select() keeps only its own); and whether the feed lost
   * track since then. A SELECT reads its snapshot before it is the selected mailbox: a change
   * committed after that read and heard before select() would otherwise be dropped, and the session
   * would not see that message until some later change. Bounded by the account's mailboxes.
   */
  private readonly heard = new Map<string, number>();
  private lostTrackSinceSelect = false;
  /** Set by IDLE: called when a change for the selected mailbox, or one NOTIFY reports, arrives. */
  onChange: (() => void) | null = null;
  private unsubscribe: Unsubscribe | null = null;
  /**
   * Mailboxes this session looked up by name (SELECT and APPEND name one every time), forgotten when
   * any mailbox of the account is created, deleted, renamed or (un)subscribed (heard on the change
   * feed, or this session's own such command) or when the feed lost track. A use checks the name in
   * its own statement where one runs (APPEND, a SELECT that reads the mailbox), so a change not heard
   * of yet costs a second lookup there, never a wrong answer.
   */
  private readonly mailboxes = new Map<string, ImapMailbox>();
  /** NOTIFY SET (RFC 5465): what to report unasked; null without NOTIFY or after NOTIFY NONE. */
  notifications: SessionNotifications | null = null;
  /** A command is being run: unsolicited responses wait for its end (or go out through IDLE). */
  private running = false;
  /** Unsolicited responses being written between commands; a command starts after them. */
  private unsolicited: Promise<void> = Promise.resolve();

  constructor(
    readonly services: GatewayServices,
    readonly io: SessionIo,
    readonly remoteAddress: string,
    public tlsActive: boolean,
  ) {}

  get state(): SessionStateName {
    return this.current.name;
  }

  get encodeOptions(): EncodeOptions {
    return { utf8: this.enabled.has('UTF8=ACCEPT') };
  }

  private get parseOptions(): ParseOptions {
    return { utf8Accept: this.enabled.has('UTF8=ACCEPT') };
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** LOGIN and AUTHENTICATE are allowed: over TLS, or on loopback when the embedded default allows it. */
  get loginAllowed(): boolean {
    const connection = { secure: this.tlsActive, remoteAddress: this.remoteAddress };
    return this.services.loginPolicy.credentialsAllowed(
      connection,
      this.services.config.allowPlaintextAuthOnLoopback,
    );
  }

  capabilities(): string[] {
    return capabilities({
      authenticated: this.state !== 'not-authenticated',
      tlsActive: this.tlsActive,
      loginAllowed: this.loginAllowed,
      appendLimit: this.services.config.appendLimit,
    });
  }

  greeting(): Buffer {
    return untaggedStatus('OK', `${this.services.config.hostname} correo IMAP ready`, {
      code: 'CAPABILITY',
      capabilities: this.capabilities(),
    });
  }

  /** Runs one framed command and writes everything it answers, the tagged completion last. */
  async handle(bytes: Buffer, uploads: StreamedUpload[] = []): Promise<Completion['then']> {
    let tag: string;
    let request: ImapRequest;
    try {
      ({ tag, request } = parseCommand(bytes, this.parseOptions));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      await this.io.write(errorResponse(error));
      return undefined;
    }
    this.running = true;
    try {
      return await this.handleParsed(tag, request, uploads);
    } finally {
      this.running = false;
      // A change that came while the tagged response was being written is not left waiting for the
      // client's next command.
      const selectedPush =
        this.selectedStale && (this.notifications?.selected?.events.has('MessageNew') ?? false);
      if (this.notifications?.pending || selectedPush) this.pushBetweenCommands();
    }
  }

  private async handleParsed(
    tag: string,
    request: ImapRequest,
    uploads: StreamedUpload[],
  ): Promise<Completion['then']> {
    await this.unsolicited;
    const context: CommandContext = { tag, session: this, services: this.services, io: this.io, uploads };
    const started = process.hrtime.bigint();
    const condstoreBefore = this.condstore;
    if (MAILBOX_COMMANDS.has(request.command)) this.mailboxes.clear();
    let completion: Completion;
    try {
      completion = await this.run(COMMANDS[request.command], context, request);
    } catch (error) {
      if (error instanceof BrokenResponseError) throw error;
      this.services.logger.error({ err: error, command: request.command }, 'IMAP command failed');
      completion = no('Internal error, try again later', { code: 'SERVERBUG' });
    }
    const uidForm = 'uid' in request && request.uid;
    // RFC 7162 3.1: the first command that turns CONDSTORE on implicitly (FETCH MODSEQ, SEARCH MODSEQ,
    // STORE UNCHANGEDSINCE...) tells the mailbox's HIGHESTMODSEQ in its tagged OK. ENABLE and
    // SELECT (CONDSTORE) are not implicit: SELECT sends it untagged already.
    const condstoreNow =
      !condstoreBefore &&
      this.condstore &&
      !EXPLICIT_CONDSTORE.has(request.command) &&
      this.state === 'selected';
    if (this.state === 'selected' && completion.status !== 'BAD') {
      await this.sync({
        force: condstoreNow,
        expungesAllowed: uidForm || !NO_EXPUNGE_DURING.has(request.command),
      });
    }
    if (this.notifications && this.current.name !== 'logout') await this.writeNotifications();
    const after = this.current;
    if (condstoreNow && after.name === 'selected' && completion.status === 'OK' && !completion.code) {
      completion = { ...completion, code: { code: 'HIGHESTMODSEQ', value: after.view.highestModseq } };
    }
    imapMetrics.commands.inc({ command: request.command, status: completion.status });
    await this.io.write(taggedResponse(tag, completion.status, completion.text, completion.code));
    if (request.command !== 'IDLE') {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      imapMetrics.commandSeconds.observe({ command: request.command }, seconds);
    }
    return completion.then;
  }

  /**
   * Runs the command if the session is in a state it is valid in, with what that state holds; the
   * request is the one the table entry was looked up by, so its type matches (TypeScript cannot relate
   * the two through the lookup, hence `never`).
   */
  private run(command: AnyCommand, base: CommandContext, request: ImapRequest): Promise<Completion> {
    const state = this.current;
    const req = request as never;
    switch (command.validIn) {
      case 'any':
        if (state.name !== 'logout') return command.run(base, req);
        break;
      case 'not-authenticated':
        if (state.name === 'not-authenticated') return command.run(base, req);
        break;
      case 'authenticated':
        if (state.name === 'authenticated')
          return command.run({ ...base, account: state.account, view: null }, req);
        if (state.name === 'selected')
          return command.run({ ...base, account: state.account, view: state.view }, req);
        break;
      case 'selected':
        if (state.name === 'selected')
          return command.run({ ...base, account: state.account, view: state.view }, req);
        break;
    }
    return Promise.resolve(bad(`${request.command} is not allowed in the ${state.name} state`));
  }

  /**
   * Reads what changed in the selected mailbox (when a notification said so, or `force`) and writes the
   * untagged EXISTS / EXPUNGE / VANISHED / FETCH responses the client may get now.
   */
  async sync(options: { force: boolean; expungesAllowed: boolean }): Promise<void> {
    const state = this.current;
    if (state.name !== 'selected') return;
    const { view } = state;
    const largestBefore = view.largestUid;
    if (!(await this.catchUp(options.force))) {
      await this.io.write(untaggedStatus('BYE', 'The selected mailbox was deleted or recreated'));
      this.logout();
      this.io.close();
      return;
    }
    const responses = view.report({
      expungesAllowed: options.expungesAllowed,
      condstore: this.condstore,
      qresync: this.qresync,
      recent: !this.rev2,
    });
    if (responses.length) await this.io.write(...responses);
    const context = { tag: '*', session: this, services: this.services, io: this.io, uploads: [] };
    await writeContextUpdates({ ...context, account: state.account, view });
    const fetchNew = this.notifications?.selected?.fetch ?? [];
    if (fetchNew.length && view.largestUid > largestBefore) {
      // NOTIFY MessageNew with attributes (RFC 5465 5.2): the new messages' FETCH follows their EXISTS.
      await fetch(
        { ...context, account: state.account, view },
        {
          command: 'FETCH',
          uid: true,
          set: { kind: 'set', ranges: [{ start: largestBefore + 1, end: '*' }] },
          attributes: [{ kind: 'UID' }, ...fetchNew],
          changedSince: null,
          vanished: false,
        },
      );
    }
  }

  /** NOTIFY's responses about other mailboxes, the mailbox list and metadata (RFC 5465). */
  async writeNotifications(): Promise<void> {
    const notifications = this.notifications;
    const state = this.current;
    if (!notifications || state.name === 'not-authenticated' || state.name === 'logout') return;
    const responses = await notifications.take(this.services.pool, state.account.accountId, {
      encode: this.encodeOptions,
      condstore: this.condstore,
      selectedMailboxId: state.name === 'selected' ? state.view.mailboxId : null,
    });
    if (notifications.overflowed) this.notifications = null;
    if (responses.length) await this.io.write(...responses);
  }

  /**
   * What NOTIFY reports unasked, now: the selected mailbox's changes when a SELECTED group asks for them
   * (EXPUNGE only under SELECTED, or during IDLE), then the other mailboxes'. Also IDLE's update.
   */
  async pushUpdates(options: { idling: boolean }): Promise<void> {
    const selected = this.notifications?.selected;
    if (options.idling || (selected && selected.events.has('MessageNew'))) {
      await this.sync({ force: false, expungesAllowed: options.idling || !selected?.delayed });
    }
    await this.writeNotifications();
  }

  /** A change arrived between commands: NOTIFY writes it at once (after any such write before it). */
  private pushBetweenCommands(): void {
    this.unsolicited = this.unsolicited
      .then(() => (this.running ? undefined : this.pushUpdates({ idling: false })))
      .catch((error: Error) => {
        this.services.logger.debug({ error: error.message }, 'NOTIFY update not sent');
      });
  }

  /** The selected mailbox changed beyond what its view holds (a change heard of, or a write of its own). */
  private get selectedStale(): boolean {
    const state = this.current;
    return state.name === 'selected' && (this.dirty || this.heardModseq > state.view.highestModseq);
  }

  /**
   * Reads what changed in the selected mailbox into its view, when a change was announced that the view
   * does not hold yet (or `force`); reports nothing. False when the mailbox is gone: the next sync says BYE.
   */
  async catchUp(force = false): Promise<boolean> {
    const state = this.current;
    if (state.name !== 'selected') return true;
    const { view } = state;
    if (!force && !this.selectedStale) return true;
    // Only a re-read for a change heard of may share a read in flight; a forced one, or one after the
    // session's own write (dirty), must begin after this point.
    const shareable = !force && !this.dirty;
    this.dirty = false;
    const present = await view.refresh(
      this.services.pool,
      state.account.accountId,
      !this.rev2,
      shareable ? this.heardModseq : undefined,
    );
    if (!present) this.dirty = true;
    return present;
  }

  /**
   * LOGIN or AUTHENTICATE succeeded: take the account's slots (the connection layer's per-user caps,
   * across pods; RFC 5530 LIMIT when one is full) and listen for the account's changes.
   */
  async loggedIn(account: AccountRef): Promise<Completion | null> {
    if (!(await this.io.admitUser(account.accountId))) {
      return no('Too many connections for this account', { code: 'LIMIT' });
    }
    this.current = { name: 'authenticated', account };
    this.unsubscribe = await this.services.changes.subscribe(account.accountId, (change) => {
      if (change === null || change.kind === 'mailboxes') this.mailboxes.clear();
      if (change === null) this.lostTrackSinceSelect = true;
      else if (change.kind !== 'metadata' && change.modseq > (this.heard.get(change.mailboxId) ?? 0)) {
        this.heard.set(change.mailboxId, change.modseq);
      }
      const state = this.current;
      const selectedId = state.name === 'selected' ? state.view.mailboxId : null;
      let due = false;
      // Annotations are not messages: a metadata change leaves the selected view as it is.
      const selectedChanged =
        selectedId !== null &&
        (change === null || (change.mailboxId === selectedId && change.kind !== 'metadata'));
      let stale = false;
      if (selectedChanged && state.name === 'selected') {
        if (change === null) this.dirty = true;
        // The echo of the session's own write (already in its view) is nothing to re-read or report.
        stale = this.dirty || this.heardModseq > state.view.highestModseq;
        if (stale) due = this.notifications?.selected?.events.has('MessageNew') ?? false;
      }
      if (this.notifications?.note(change, selectedId)) due = true;
      if (stale || due) this.onChange?.();
      if (due && !this.running) this.pushBetweenCommands();
    });
    return null;
  }

  /**
   * The mailbox named `name` of the logged-in account, as findImapMailbox reads it; from what this
   * session looked up before when nothing about the account's mailboxes changed since (`fresh`: read
   * the store, after a use found the held one gone or renamed).
   */
  async findMailbox(account: AccountRef, name: string, fresh = false): Promise<ImapMailbox | null> {
    const held = fresh ? undefined : this.mailboxes.get(name);
    if (held) return held;
    this.mailboxes.delete(name);
    const found = await findImapMailbox(this.services.pool, account.accountId, name);
    // Only a name that exists is kept (bounded by the account's mailboxes): a miss is asked again.
    if (found) this.mailboxes.set(name, found);
    return found;
  }

  /** SELECT or EXAMINE: `account` is the context's, the session is authenticated or selected. */
  select(account: AccountRef, view: MailboxView): void {
    this.current = { name: 'selected', account, view };
    // What was heard while the SELECT was being answered: a MODSEQ above the snapshot's makes the view
    // stale, so the next command (or IDLE) reads it; one the snapshot already holds costs nothing.
    this.dirty = this.lostTrackSinceSelect;
    for (const mailboxId of this.heard.keys()) if (mailboxId !== view.mailboxId) this.heard.delete(mailboxId);
    this.lostTrackSinceSelect = false;
  }

  /** CLOSE, UNSELECT, or SELECT closing the previous mailbox. */
  unselect(account: AccountRef): void {
    this.current = { name: 'authenticated', account };
  }

  /** LOGOUT, or the selected mailbox vanished: nothing more is run; close() frees the account's slot. */
  logout(): void {
    const state = this.current;
    this.current = { name: 'logout', account: state.name === 'not-authenticated' ? null : state.account };
  }

  capabilityResponse(): Buffer {
    return capabilityResponse(this.capabilities());
  }

  /** The connection is gone: drop the subscription (the connection layer frees the account's slots). */
  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.onChange = null;
    this.notifications = null;
    this.current = { name: 'logout', account: null };
    await unsubscribe?.().catch(() => {});
  }
}
