import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import {
  api,
  ApiError,
  type Folder,
  type ListOrder,
  type MessagePage,
  type MessageView,
  type UserSettings,
} from './api.js';
import { textToHtml, type ComposeDone, type ComposeDraft } from './compose.js';
import {
  renderFolderTree,
  type DraggedMessages,
  type FolderEdit,
  type FolderTreeHost,
} from './folder-tree.js';
import { folderLabel, formatDate, formatSize, quote } from './format.js';
import { renderMessageList, visibleMessages, type BulkAction, type MessageListHost } from './message-list.js';
import {
  renderAuthentication,
  renderDetail,
  renderDetailButtons,
  renderImagesBar,
  type ReaderDetail,
  type ReaderHost,
} from './reader.js';
import { Selection } from './selection.js';
import './settings.js';

/** The raw source view shows this much; the download has all of it. */
const RAW_SOURCE_LIMIT = 512 * 1024;

/**
 * The whole page: sign-in, folders, the message list, the reading pane and compose. Light DOM (no
 * shadow root) so one stylesheet served by the webmail styles it under style-src 'self'.
 */
class CorreoWebmail extends LitElement implements FolderTreeHost, MessageListHost, ReaderHost {
  static override properties = {
    address: { state: true },
    folders: { state: true },
    folder: { state: true },
    page: { state: true },
    list: { state: true },
    selected: { state: true },
    message: { state: true },
    showImages: { state: true },
    plainText: { state: true },
    draft: { state: true },
    search: { state: true },
    status: { state: true },
    error: { state: true },
    busy: { state: true },
    confirmEmpty: { state: true },
    settings: { state: true },
    view: { state: true },
    order: { state: true },
    expanded: { state: true },
    folderEdit: { state: true },
    detail: { state: true },
  };

  address: string | null | undefined = undefined;
  folders: Folder[] = [];
  folder = 'INBOX';
  page = 1;
  list: MessagePage | null = null;
  selected: number | null = null;
  message: MessageView | null = null;
  showImages = false;
  plainText = false;
  draft: ComposeDraft | null = null;
  /** The user's settings (signature, reply mode, images policy, compose mode); defaults until loaded. */
  settings: UserSettings = {
    displayName: '',
    signature: '',
    replyMode: 'reply',
    imagesPolicy: 'ask',
    composeMode: 'text',
  };
  /** The reading pane shows mail, or the settings page. */
  view: 'mail' | 'settings' = 'mail';
  search = '';
  status = '';
  error = '';
  busy = false;
  confirmEmpty = false;
  // Received (the mailbox's own order) by default: a page costs one FETCH, whatever the folder's size.
  order: ListOrder = { sort: 'arrival', order: 'desc', threads: false };
  /** Picked rows (not reactive by itself: every change calls requestUpdate). */
  readonly selection = new Selection();
  expanded = new Set<number>();
  folderEdit: FolderEdit | null = null;
  detail: ReaderDetail | null = null;
  #events: EventSource | null = null;
  #listTicket = 0;

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback() {
    super.connectedCallback();
    document.addEventListener('keydown', this.#onKey);
    void this.#guard(async () => {
      this.address = await api.resume();
      if (this.address) await this.#start();
    });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener('keydown', this.#onKey);
    this.#events?.close();
    window.removeEventListener('focus', this.#onFocus);
  }

  protected override updated(changed: PropertyValues) {
    if (changed.has('address') && this.address === null) {
      this.querySelector<HTMLInputElement>('#address')?.focus();
    }
  }

  override render(): TemplateResult {
    if (this.address === undefined) return html`<p class="loading" role="status">Loading…</p>`;
    if (this.address === null) return this.#renderSignIn();
    return html`
      <header class="bar">
        <h1>correo</h1>
        <form class="search" role="search" @submit=${this.#onSearch}>
          <label for="search" class="visually-hidden">Search mail</label>
          <input id="search" type="search" name="q" placeholder="Search (/)" .value=${this.search} />
        </form>
        <button type="button" class="primary" @click=${() => this.#compose()}>Compose</button>
        <button
          type="button"
          aria-pressed=${this.view === 'settings' ? 'true' : 'false'}
          @click=${this.#openSettings}
        >
          Settings
        </button>
        <span class="who">${this.address}</span>
        <button type="button" @click=${this.#signOut}>Sign out</button>
      </header>
      <div class="notice" role="status" aria-live="polite">${this.status}</div>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      <main class="panes">
        <nav class="folders" aria-label="Folders">${renderFolderTree(this)}</nav>
        <section class="list" aria-label="Message list">${renderMessageList(this)}</section>
        <section class="reader" aria-label="Reading pane">
          ${
            this.view === 'settings'
              ? html`<correo-settings @settings-saved=${this.#settingsSaved}></correo-settings>`
              : this.draft
                ? this.#renderCompose()
                : this.#renderMessage()
          }
        </section>
      </main>
    `;
  }

  #renderSignIn() {
    return html`
      <main class="signin">
        <form @submit=${this.#onSignIn} aria-describedby="signin-error">
          <h1>correo</h1>
          <p>Sign in with your mail address and password.</p>
          <label for="address">Mail address</label>
          <input id="address" name="address" type="email" autocomplete="username" required />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button class="primary" type="submit" ?disabled=${this.busy}>
            ${this.busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p id="signin-error" class="error" role="alert">${this.error}</p>
        </form>
      </main>
    `;
  }

  /** Emptying Trash/Junk deletes for good: the first click asks, the second does it. */
  renderEmptyFolder(total: number) {
    const use = this.currentFolder().specialUse;
    if (this.search || total === 0 || (use !== '\\Trash' && use !== '\\Junk')) return nothing;
    if (!this.confirmEmpty) {
      return html`<button type="button" @click=${() => (this.confirmEmpty = true)}>Empty</button>`;
    }
    return html`<button type="button" class="danger" @click=${this.#empty}>Delete ${total} for good</button>`;
  }

  #empty = () => {
    const folder = this.folder;
    this.confirmEmpty = false;
    void this.#guard(async () => {
      await api.empty(folder);
      this.status = `${folderLabel(this.currentFolder())} emptied.`;
      await Promise.all([this.#loadList(), this.#loadFolders()]);
    });
  };

  #renderMessage() {
    const m = this.message;
    if (!m) return html`<p class="empty">Select a message to read it.</p>`;
    const moveTargets = this.folders.filter((f) => f.path !== m.folder);
    const archive = this.folders.find((f) => f.specialUse === '\\Archive');
    return html`
      <article class="message" aria-labelledby="message-subject">
        <h2 id="message-subject">${m.subject || '(no subject)'}</h2>
        <dl class="headers">
          <dt>From</dt>
          <dd>${m.from}</dd>
          <dt>To</dt>
          <dd>${m.to}</dd>
          ${
            m.cc
              ? html`<dt>Cc</dt>
                  <dd>${m.cc}</dd>`
              : nothing
          }
          <dt>Date</dt>
          <dd>${formatDate(m.date, true)}</dd>
        </dl>
        ${renderAuthentication(m)}
        <div class="actions">
          <button type="button" @click=${() => this.#reply(m)}>Reply (r)</button>
          <button type="button" @click=${() => this.#replyAll(m)}>Reply all (a)</button>
          <button type="button" @click=${() => this.#forward(m)}>Forward (f)</button>
          ${
            archive && archive.path !== m.folder
              ? html`<button type="button" @click=${() => this.#move(m, archive.path)}>Archive</button>`
              : nothing
          }
          <button type="button" @click=${() => this.#toggle('seen', !m.seen)}>
            ${m.seen ? 'Mark unread' : 'Mark read'}
          </button>
          <button type="button" @click=${() => this.#toggle('flagged', !m.flagged)}>
            ${m.flagged ? 'Unflag' : 'Flag'}
          </button>
          <button type="button" @click=${() => this.#delete(m)}>Delete (#)</button>
          <label class="visually-hidden" for="move-to">Move to folder</label>
          <select id="move-to" @change=${(e: Event) => this.#move(m, (e.target as HTMLSelectElement).value)}>
            <option value="">Move to…</option>
            ${moveTargets.map((f) => html`<option value=${f.path}>${folderLabel(f)}</option>`)}
          </select>
          ${
            m.hasHtml
              ? html`<button
                  type="button"
                  aria-pressed=${this.plainText ? 'true' : 'false'}
                  @click=${() => (this.plainText = !this.plainText)}
                >
                  Plain text
                </button>`
              : nothing
          }
          <a class="button" href=${api.sourceUrl(m.folder, m.uid)} download>Source</a>
          ${renderDetailButtons(this)}
        </div>
        ${renderDetail(this)}
        ${this.plainText || this.settings.imagesPolicy === 'never' ? nothing : renderImagesBar(this, m)}
        ${
          m.hasHtml && !this.plainText
            ? html`<iframe
                class="body"
                title="Message body"
                sandbox="allow-popups allow-popups-to-escape-sandbox"
                referrerpolicy="no-referrer"
                src=${api.bodyUrl(m.folder, m.uid, this.showImages)}
              ></iframe>`
            : html`<pre class="body text">${m.text}</pre>`
        }
        ${
          m.attachments.length > 0
            ? html`<section class="attachments" aria-label="Attachments">
                <h3>Attachments</h3>
                <ul>
                  ${m.attachments.map(
                    (a) =>
                      html`<li>
                        <a href=${api.attachmentUrl(m.folder, m.uid, a.index)} download=${a.filename}
                          >${a.filename}</a
                        >
                        <span class="size">${formatSize(a.size)}</span>
                      </li>`,
                  )}
                </ul>
              </section>`
            : nothing
        }
      </article>
    `;
  }

  #renderCompose() {
    // A new draft object is a new form (reply while composing starts over), never a reused one.
    return keyed(
      this.draft,
      html`<correo-compose .draft=${this.draft!} @compose-done=${this.#composeDone}></correo-compose>`,
    );
  }

  #composeDone = (event: ComposeDone) => {
    this.draft = null;
    this.status = event.detail.status;
    void this.#guard(() => Promise.all([this.#loadFolders(), this.#loadList()]));
  };

  #openSettings = () => {
    this.view = this.view === 'settings' ? 'mail' : 'settings';
  };

  #settingsSaved = (event: CustomEvent<UserSettings>) => {
    this.settings = event.detail;
  };

  async #start() {
    await Promise.all([this.#loadFolders(), this.#loadList(), this.#loadSettings()]);
    this.#listen();
    // IDLE reports the open folder only; the other folders' unread counts (LIST-STATUS) catch up on
    // every action and when the user comes back to the tab. Not on a timer: a timer would keep an
    // unattended session alive past its idle expiry.
    window.removeEventListener('focus', this.#onFocus);
    window.addEventListener('focus', this.#onFocus);
  }

  #onFocus = () => {
    if (this.address) void this.#loadFolders().catch(() => {});
  };

  /** Live updates: the server's IDLE, passed on as Server-Sent Events. */
  #listen() {
    this.#events?.close();
    const events = new EventSource('/api/events');
    events.addEventListener('change', (event) => {
      const change = JSON.parse((event as MessageEvent<string>).data) as { folder: string; kind: string };
      void this.#loadFolders();
      if (change.folder === this.folder) void this.#loadList();
    });
    // Another tab (or a reload) took over the session's one stream: stop, rather than take it back.
    events.addEventListener('replaced', () => events.close());
    events.addEventListener('signed-out', () => {
      events.close();
      this.#signedOut('Your session ended. Sign in again.');
    });
    this.#events = events;
  }

  async #loadSettings() {
    // Settings the server cannot give (no database behind it) leave the defaults: mail still works.
    this.settings = await api.settings().catch(() => this.settings);
  }

  async #loadFolders() {
    this.folders = await api.folders();
  }

  async #loadList() {
    // Only the latest request's answer is shown: a reload still in flight for the folder (or page,
    // order, search) the user just left must not replace the list they are looking at now.
    const ticket = ++this.#listTicket;
    const list = await api.messages({
      folder: this.folder,
      page: this.page,
      q: this.search || undefined,
      ...this.order,
    });
    if (ticket !== this.#listTicket) return;
    this.selection.keepOnly(list.messages.map((m) => m.uid));
    this.list = list;
  }

  currentFolder(): Folder {
    return (
      this.folders.find((f) => f.path === this.folder) ?? {
        path: this.folder,
        name: this.folder,
        delimiter: '/',
        specialUse: null,
        messages: 0,
        unseen: 0,
      }
    );
  }

  openFolder(path: string) {
    this.folder = path;
    this.confirmEmpty = false;
    this.folderEdit = null;
    this.selection.clear();
    this.expanded = new Set();
    this.page = 1;
    this.search = '';
    this.selected = null;
    this.message = null;
    this.list = null;
    void this.#guard(() => this.#loadList());
  }

  goPage(page: number) {
    this.page = page;
    this.selection.clear();
    void this.#guard(() => this.#loadList());
  }

  // The message list (message-list.ts): order, selection, threads, bulk actions.

  setOrder(change: Partial<ListOrder>) {
    this.order = { ...this.order, ...change };
    this.page = 1;
    this.selection.clear();
    this.expanded = new Set();
    void this.#guard(() => this.#loadList());
  }

  rowClicked(uid: number, how: { shift: boolean; toggle: boolean }) {
    if (!how.shift && !how.toggle) {
      this.selection.focus(uid);
      this.requestUpdate();
      this.#openMessage(uid);
      return;
    }
    this.selection.click(
      uid,
      how,
      visibleMessages(this).map((m) => m.uid),
    );
    this.requestUpdate();
  }

  toggleThread(root: number) {
    const expanded = new Set(this.expanded);
    if (!expanded.delete(root)) expanded.add(root);
    this.expanded = expanded;
  }

  selectAll(on: boolean) {
    if (on) this.selection.all(visibleMessages(this).map((m) => m.uid));
    else this.selection.clear();
    this.requestUpdate();
  }

  bulk(action: BulkAction) {
    // A collapsed conversation stands for all of its messages.
    const picked = new Set(this.selection.uids);
    for (const m of this.list?.messages ?? []) {
      if (m.thread && picked.has(m.thread.root) && !this.expanded.has(m.thread.root)) picked.add(m.uid);
    }
    const uids = [...picked];
    if (uids.length === 0) return;
    const folder = this.folder;
    const count = `${uids.length} message${uids.length === 1 ? '' : 's'}`;
    void this.#guard(async () => {
      if (action === 'read' || action === 'unread') {
        await api.setFlags(folder, uids, { seen: action === 'read' });
        this.status = `${count} marked ${action}.`;
      } else if (action === 'flag' || action === 'unflag') {
        await api.setFlags(folder, uids, { flagged: action === 'flag' });
        this.status = `${count} ${action === 'flag' ? 'flagged' : 'unflagged'}.`;
      } else if (action === 'delete') {
        await api.remove(folder, uids);
        this.status = `${count} deleted.`;
      } else {
        const to =
          action === 'archive' ? this.folders.find((f) => f.specialUse === '\\Archive')?.path : action.move;
        if (!to) return;
        await api.move(folder, uids, to);
        this.status = `${count} moved to ${this.#label(to)}.`;
      }
      const open = this.message;
      if (open && uids.includes(open.uid)) {
        // Gone from this folder, or shown with its new flags.
        if (typeof action !== 'string' || action === 'delete' || action === 'archive') this.message = null;
        else if (action === 'read' || action === 'unread')
          this.message = { ...open, seen: action === 'read' };
        else this.message = { ...open, flagged: action === 'flag' };
      }
      this.selection.clear();
      await Promise.all([this.#loadList(), this.#loadFolders()]);
    });
  }

  // The folder tree (folder-tree.ts).

  moveDropped(dragged: DraggedMessages, to: string) {
    if (dragged.folder !== this.folder || dragged.uids.length === 0 || to === this.folder) return;
    const count = `${dragged.uids.length} message${dragged.uids.length === 1 ? '' : 's'}`;
    void this.#guard(async () => {
      await api.move(dragged.folder, dragged.uids, to);
      if (this.message && dragged.uids.includes(this.message.uid)) this.message = null;
      this.selection.clear();
      this.status = `${count} moved to ${this.#label(to)}.`;
      await Promise.all([this.#loadList(), this.#loadFolders()]);
    });
  }

  editFolder(edit: FolderEdit | null) {
    this.folderEdit = edit;
    if (edit && edit.kind !== 'delete') {
      void this.updateComplete.then(() => this.querySelector<HTMLInputElement>('#folder-name')?.focus());
    }
  }

  createFolder(path: string) {
    void this.#guard(async () => {
      await api.createFolder(path);
      this.folderEdit = null;
      this.status = `Folder "${path}" created.`;
      await this.#loadFolders();
    });
  }

  renameFolder(path: string, to: string) {
    void this.#guard(async () => {
      await api.renameFolder(path, to);
      this.folderEdit = null;
      this.status = `Folder "${path}" renamed to "${to}".`;
      await this.#loadFolders();
      if (this.folder === path) this.openFolder(to);
    });
  }

  deleteFolder(path: string) {
    void this.#guard(async () => {
      await api.deleteFolder(path);
      this.folderEdit = null;
      this.status = `Folder "${path}" deleted.`;
      await this.#loadFolders();
      if (this.folder === path) this.openFolder('INBOX');
    });
  }

  #label(path: string): string {
    const folder = this.folders.find((f) => f.path === path);
    return folder ? folderLabel(folder) : path;
  }

  // The reading pane (reader.ts): headers, raw source, remote images.

  showDetail(kind: ReaderDetail['kind'] | null) {
    const m = this.message;
    if (!m || kind === null) {
      this.detail = null;
      return;
    }
    void this.#guard(async () => {
      this.detail =
        kind === 'headers'
          ? { kind, headers: await api.headers(m.folder, m.uid) }
          : { kind, ...(await api.rawSource(m.folder, m.uid, RAW_SOURCE_LIMIT)) };
    });
  }

  allowImages(scope: 'message' | 'sender') {
    const m = this.message;
    if (!m) return;
    if (scope === 'message') {
      this.showImages = true;
      return;
    }
    void this.#guard(async () => {
      await api.imageSender(m.sender, true);
      this.message = { ...m, imagesAllowed: true };
      this.showImages = true;
      this.status = `Images from ${m.sender} will always be shown.`;
    });
  }

  forgetSender(sender: string) {
    const m = this.message;
    void this.#guard(async () => {
      await api.imageSender(sender, false);
      if (m) this.message = { ...m, imagesAllowed: false };
      this.showImages = false;
      this.status = `Images from ${sender} will be blocked again.`;
    });
  }

  #openMessage(uid: number) {
    if (this.currentFolder().specialUse === '\\Drafts') {
      this.#resumeDraft(uid);
      return;
    }
    this.selected = uid;
    this.status = '';
    this.draft = null;
    this.view = 'mail';
    this.showImages = this.settings.imagesPolicy === 'always';
    this.plainText = false;
    this.detail = null;
    void this.#guard(async () => {
      const message = await api.message(this.folder, uid);
      if (this.selected !== uid) return;
      // The user allowed this sender's images for good (kept on the server), or all images in the
      // settings: shown at once.
      this.showImages = message.imagesAllowed || this.settings.imagesPolicy === 'always';
      this.message = message;
      if (!message.seen) {
        await api.setFlags(this.folder, [uid], { seen: true });
        this.message = { ...message, seen: true };
        await Promise.all([this.#loadList(), this.#loadFolders()]);
      }
    });
  }

  #toggle(flag: 'seen' | 'flagged', on: boolean) {
    const m = this.message;
    if (!m) return;
    void this.#guard(async () => {
      await api.setFlags(m.folder, [m.uid], { [flag]: on });
      this.message = { ...m, [flag]: on };
      await Promise.all([this.#loadList(), this.#loadFolders()]);
    });
  }

  #delete(m: MessageView) {
    void this.#guard(async () => {
      await api.remove(m.folder, [m.uid]);
      this.#afterRemoval('Message deleted.');
    });
  }

  #move(m: MessageView, to: string) {
    if (!to) return;
    void this.#guard(async () => {
      await api.move(m.folder, [m.uid], to);
      this.#afterRemoval(`Message moved to ${to}.`);
    });
  }

  #afterRemoval(status: string) {
    this.message = null;
    this.selected = null;
    this.status = status;
    void this.#guard(() => Promise.all([this.#loadList(), this.#loadFolders()]));
  }

  /** The signature under a new text, as `-- ` (RFC 3676 4.3) so clients can fold it away. */
  #signature(): string {
    return this.settings.signature ? `\n\n-- \n${this.settings.signature}` : '';
  }

  #compose(fields: Partial<ComposeDraft> = {}) {
    const mode = fields.mode ?? this.settings.composeMode;
    const text = fields.body ?? this.#signature();
    this.view = 'mail';
    this.status = '';
    this.draft = {
      title: 'New message',
      to: '',
      cc: '',
      bcc: '',
      subject: '',
      attachments: [],
      ...fields,
      mode,
      body: mode === 'html' && fields.mode !== 'html' ? textToHtml(text) : text,
    };
  }

  #resumeDraft(uid: number) {
    void this.#guard(async () => {
      const opened = await api.openDraft(uid);
      const mode = opened.html !== undefined ? 'html' : 'text';
      this.selected = uid;
      this.#compose({
        title: 'Draft',
        ...(opened.from ? { from: opened.from } : {}),
        to: opened.to.join(', '),
        cc: (opened.cc ?? []).join(', '),
        bcc: (opened.bcc ?? []).join(', '),
        subject: opened.subject,
        mode,
        body: mode === 'html' ? (opened.html ?? '') : opened.text,
        attachments: opened.attachmentList,
        ...(opened.inReplyTo ? { inReplyTo: opened.inReplyTo } : {}),
        ...(opened.forwardOf ? { forwardOf: opened.forwardOf } : {}),
        draftUid: uid,
      });
    });
  }

  /** Reply as the settings say (r): to the sender, or to everyone. */
  #defaultReply(m: MessageView) {
    if (this.settings.replyMode === 'reply-all') this.#replyAll(m);
    else this.#reply(m);
  }

  #reply(m: MessageView, cc = '') {
    this.#compose({
      title: 'Reply',
      to: m.replyTo,
      cc,
      subject: /^re:/i.test(m.subject) ? m.subject : `Re: ${m.subject}`,
      body: `${this.#signature()}\n\n${quote(m.from, m.date, m.text)}`,
      inReplyTo: { folder: m.folder, uid: m.uid },
    });
  }

  #replyAll(m: MessageView) {
    const me = (this.address ?? '').toLowerCase();
    const others = m.recipients.filter(
      (a) => a.toLowerCase() !== me && a.toLowerCase() !== m.replyTo.toLowerCase(),
    );
    this.#reply(m, [...new Set(others)].join(', '));
  }

  #forward(m: MessageView) {
    const header = [
      '---------- Forwarded message ----------',
      `From: ${m.from}`,
      `Date: ${formatDate(m.date, true)}`,
      `Subject: ${m.subject}`,
      `To: ${m.to}`,
      ...(m.cc ? [`Cc: ${m.cc}`] : []),
    ].join('\n');
    this.#compose({
      title: 'Forward',
      subject: /^fwd?:/i.test(m.subject) ? m.subject : `Fwd: ${m.subject}`,
      body: `${this.#signature()}\n\n${header}\n\n${m.text}`,
      forwardOf: { folder: m.folder, uid: m.uid },
      ...(m.attachments.length > 0 ? { originalAttachmentsOf: { folder: m.folder, uid: m.uid } } : {}),
    });
  }

  #onSignIn = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    void api
      .signIn(String(form.get('address')), String(form.get('password')))
      .then(async (address) => {
        this.address = address;
        await this.#start();
      })
      .catch((error: unknown) => (this.error = messageOf(error)))
      .finally(() => (this.busy = false));
  };

  #onSearch = (event: SubmitEvent) => {
    event.preventDefault();
    this.search = String(new FormData(event.target as HTMLFormElement).get('q') ?? '').trim();
    this.page = 1;
    this.message = null;
    this.selected = null;
    void this.#guard(() => this.#loadList());
  };

  #signOut = () => {
    void this.#guard(async () => {
      await api.signOut();
      this.#signedOut('');
    });
  };

  #signedOut(error: string) {
    this.#events?.close();
    this.address = null;
    this.list = null;
    this.message = null;
    this.folders = [];
    this.error = error;
  }

  /** Every action's failure is shown in the server's own words; an ended session goes back to sign-in. */
  async #guard(work: () => Promise<unknown>) {
    this.error = '';
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && this.address) {
        this.#signedOut(error.message);
        return;
      }
      this.error = messageOf(error);
    }
  }

  #onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (!this.address || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest('input, textarea, select, [contenteditable]')) return;
    const messages = visibleMessages(this);
    const index = messages.findIndex((m) => m.uid === this.selected);
    const go = (i: number) => {
      const next = messages[Math.max(0, Math.min(messages.length - 1, i))];
      if (next) this.#openMessage(next.uid);
    };
    const actions: Record<string, () => void> = {
      j: () => go(index + 1),
      k: () => go(index < 0 ? 0 : index - 1),
      r: () => this.message && this.#defaultReply(this.message),
      a: () => this.message && this.#replyAll(this.message),
      f: () => this.message && this.#forward(this.message),
      c: () => this.#compose(),
      '#': () => this.message && this.#delete(this.message),
      '/': () => this.querySelector<HTMLInputElement>('#search')?.focus(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}

customElements.define('correo-webmail', CorreoWebmail);
