import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { repeat } from 'lit/directives/repeat.js';
import { api, ApiError, type Folder, type MessagePage, type MessageView, type UserSettings } from './api.js';
import { textToHtml, type ComposeDone, type ComposeDraft } from './compose.js';
import { folderLabel, formatDate, formatSize, quote } from './format.js';
import './settings.js';

/**
 * The whole page: sign-in, folders, the message list, the reading pane and compose. Light DOM (no
 * shadow root) so one stylesheet served by the webmail styles it under style-src 'self'.
 */
class CorreoWebmail extends LitElement {
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
  #events: EventSource | null = null;

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
        <nav class="folders" aria-label="Folders">${this.#renderFolders()}</nav>
        <section class="list" aria-label="Message list">${this.#renderList()}</section>
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

  #renderFolders() {
    return html`<ul>
      ${this.folders.map(
        (folder) =>
          html`<li>
            <button
              type="button"
              class="folder"
              data-path=${folder.path}
              aria-current=${folder.path === this.folder ? 'true' : 'false'}
              @click=${() => this.#openFolder(folder.path)}
            >
              <span class="icon" aria-hidden="true">${folderIcon(folder)}</span>
              <span class="name">${folderLabel(folder)}</span>
              ${
                folder.unseen > 0
                  ? html`<span class="unseen" aria-label="${folder.unseen} unread">${folder.unseen}</span>`
                  : nothing
              }
            </button>
          </li>`,
      )}
    </ul>`;
  }

  #renderList() {
    const list = this.list;
    if (!list) return html`<p class="empty">Loading…</p>`;
    const first = list.total === 0 ? 0 : (list.page - 1) * list.pageSize + 1;
    const last = Math.min(list.total, list.page * list.pageSize);
    return html`
      <div class="list-head">
        <h2>${this.search ? `Search: ${this.search}` : folderLabel(this.#currentFolder())}</h2>
        ${this.#renderEmpty(list.total)}
        <span class="range">${first}–${last} of ${list.total}</span>
        <button
          type="button"
          aria-label="Newer messages"
          ?disabled=${list.page <= 1}
          @click=${() => this.#goPage(list.page - 1)}
        >
          ‹
        </button>
        <button
          type="button"
          aria-label="Older messages"
          ?disabled=${last >= list.total}
          @click=${() => this.#goPage(list.page + 1)}
        >
          ›
        </button>
      </div>
      ${
        list.messages.length === 0
          ? html`<p class="empty">No messages here.</p>`
          : html`<ol class="messages">
              ${repeat(
                list.messages,
                // Keyed by UID: a row stays with its message while live updates reorder the list, so
                // a click during a refresh opens the message that was under the pointer.
                (m) => m.uid,
                (m) =>
                  html`<li>
                    <button
                      type="button"
                      class="message-row ${m.seen ? '' : 'unread'} ${this.selected === m.uid ? 'selected' : ''}"
                      data-uid=${m.uid}
                      aria-current=${this.selected === m.uid ? 'true' : 'false'}
                      @click=${() => this.#openMessage(m.uid)}
                    >
                      <span class="from">${m.from || '(no sender)'}</span>
                      <span class="date">${formatDate(m.date)}</span>
                      <span class="subject">
                        ${m.flagged ? html`<span class="flag" aria-label="flagged">★</span>` : nothing}
                        ${m.hasAttachments ? html`<span class="clip" aria-label="has attachments">⊕</span>` : nothing}
                        ${m.subject || '(no subject)'}
                      </span>
                    </button>
                  </li>`,
              )}
            </ol>`
      }
    `;
  }

  /** Emptying Trash/Junk deletes for good: the first click asks, the second does it. */
  #renderEmpty(total: number) {
    const use = this.#currentFolder().specialUse;
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
      this.status = `${folderLabel(this.#currentFolder())} emptied.`;
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
        </div>
        ${
          m.hasHtml &&
          !this.plainText &&
          m.remoteImages > 0 &&
          !this.showImages &&
          this.settings.imagesPolicy !== 'never'
            ? html`<p class="images-blocked">
                ${m.remoteImages} remote image${m.remoteImages === 1 ? ' was' : 's were'} blocked to protect
                your privacy.
                <button type="button" @click=${() => (this.showImages = true)}>Show images</button>
              </p>`
            : nothing
        }
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
  }

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
    this.list = await api.messages({ folder: this.folder, page: this.page, q: this.search || undefined });
  }

  #currentFolder(): Folder {
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

  #openFolder(path: string) {
    this.folder = path;
    this.confirmEmpty = false;
    this.page = 1;
    this.search = '';
    this.selected = null;
    this.message = null;
    this.list = null;
    void this.#guard(() => this.#loadList());
  }

  #goPage(page: number) {
    this.page = page;
    void this.#guard(() => this.#loadList());
  }

  #openMessage(uid: number) {
    if (this.#currentFolder().specialUse === '\\Drafts') {
      this.#resumeDraft(uid);
      return;
    }
    this.selected = uid;
    this.status = '';
    this.draft = null;
    this.view = 'mail';
    this.showImages = this.settings.imagesPolicy === 'always';
    this.plainText = false;
    void this.#guard(async () => {
      const message = await api.message(this.folder, uid);
      if (this.selected !== uid) return;
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
    const messages = this.list?.messages ?? [];
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

// Symbols every system font has (no emoji font is assumed); the name beside them says what they are.
function folderIcon(folder: Folder): string {
  if (folder.path.toUpperCase() === 'INBOX') return '✉';
  const icons: Record<string, string> = {
    '\\Sent': '➤',
    '\\Drafts': '✎',
    '\\Trash': '✖',
    '\\Junk': '⚠',
    '\\Archive': '▤',
  };
  return (folder.specialUse && icons[folder.specialUse]) || '▸';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}

customElements.define('correo-webmail', CorreoWebmail);
