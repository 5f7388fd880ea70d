import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { api, ApiError, type Correspondent, type Outgoing, type UploadedAttachment } from './api.js';
import { formatSize } from './format.js';

type Ref = { folder: string; uid: number };

/** What the compose form starts with: new, reply, forward, or a draft reopened. */
export interface ComposeDraft {
  title: string;
  from?: string;
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  /** The body in the draft's mode: plain text, or the editor's HTML. */
  body: string;
  mode: 'html' | 'text';
  attachments: UploadedAttachment[];
  inReplyTo?: Ref;
  forwardOf?: Ref;
  draftUid?: number;
  /** A forward: bring the original's attachments into the form once it opens. */
  originalAttachmentsOf?: Ref;
}

/** The end of composing, for the page: what to tell the user. */
export type ComposeDone = CustomEvent<{ status: string }>;

const AUTOSAVE_MS = 1500;
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
type Field = 'to' | 'cc' | 'bcc';

/**
 * The compose form: From, To/Cc/Bcc with autocomplete from the user's correspondents, subject, a
 * plain-text or simple rich-text body, attachments uploaded with progress, and the draft saved to
 * Drafts while typing (each save replaces the one before; sending deletes it). Light DOM, like the page.
 */
export class CorreoCompose extends LitElement {
  static override properties = {
    draft: { attribute: false },
    identities: { state: true },
    suggestions: { state: true },
    active: { state: true },
    uploads: { state: true },
    mode: { state: true },
    saved: { state: true },
    busy: { state: true },
    error: { state: true },
  };

  draft!: ComposeDraft;
  identities: string[] = [];
  suggestions: { field: Field; list: Correspondent[] } | null = null;
  active = 0;
  uploads: { name: string; progress: number }[] = [];
  mode: 'html' | 'text' = 'text';
  saved = '';
  busy = false;
  error = '';
  #attachments: UploadedAttachment[] = [];
  #draftUid: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Saves run one after another; sending waits for the last one. */
  #saving: Promise<void> = Promise.resolve();
  #dirty = false;
  /** The last save did not reach Drafts: the uploads are still only here. */
  #saveFailed = false;
  /** Sent or discarded: nothing more to save. */
  #finished = false;
  #editorBody: string | null = null;
  #lookup = 0;

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback() {
    super.connectedCallback();
    this.mode = this.draft.mode;
    this.#attachments = [...this.draft.attachments];
    this.#draftUid = this.draft.draftUid;
    this.#editorBody = this.draft.body;
    void api
      .identities()
      .then((identities) => (this.identities = identities.addresses))
      .catch(() => {});
    const original = this.draft.originalAttachmentsOf;
    if (original) {
      void this.#run(async () => {
        this.#attachments = [
          ...this.#attachments,
          ...(await api.originalAttachments(original.folder, original.uid)),
        ];
        this.requestUpdate();
      });
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
    // Left for another message or folder with unsaved typing: it still goes to Drafts (the form's
    // fields stay readable in this detached element).
    if (this.#finished) return;
    const attachments = this.#attachments;
    // The uploads are in the saved draft now (reopening it uploads them again): the server may let go.
    void (this.#dirty ? this.#autosave() : this.#saving).then(() => {
      if (this.#draftUid === undefined || this.#saveFailed) return;
      for (const a of attachments) void api.removeAttachment(a.id).catch(() => {});
    });
  }

  protected override updated(changed: PropertyValues) {
    // The editor's content is set once (and on a mode switch), never bound: a re-render must not move
    // the caret or drop what the user typed.
    if (this.#editorBody !== null) {
      const body = this.#editorBody;
      this.#editorBody = null;
      if (this.mode === 'html') {
        const editor = this.querySelector<HTMLElement>('.editor');
        if (editor) editor.innerHTML = body;
      } else {
        const area = this.querySelector<HTMLTextAreaElement>('textarea#body');
        if (area) area.value = body;
      }
    }
    if (changed.has('draft')) {
      this.querySelector<HTMLElement>(
        this.draft.to ? (this.mode === 'html' ? '.editor' : '#body') : '#to',
      )?.focus();
    }
  }

  override render() {
    const d = this.draft;
    const from = d.from ?? this.identities[0] ?? '';
    return html`
      <form class="compose" @submit=${this.#onSend} @input=${this.#changed} aria-label=${d.title}>
        <h2>${d.title}</h2>
        <label for="from">From</label>
        <select id="from" name="from">
          ${[...new Set([from, ...this.identities])]
            .filter(Boolean)
            .map(
              (address) => html`<option value=${address} ?selected=${address === from}>${address}</option>`,
            )}
        </select>
        ${this.#addressField('to', 'To', d.to)} ${this.#addressField('cc', 'Cc', d.cc)}
        ${this.#addressField('bcc', 'Bcc', d.bcc)}
        <label for="subject">Subject</label>
        <input id="subject" name="subject" .value=${d.subject} />
        <div class="toolbar" role="toolbar" aria-label="Formatting">
          <button
            type="button"
            aria-pressed=${this.mode === 'html' ? 'true' : 'false'}
            @click=${this.#toggleMode}
          >
            Rich text
          </button>
          ${
            this.mode === 'html'
              ? html`
                  <button type="button" @mousedown=${keepFocus} @click=${() => format('bold')}>Bold</button>
                  <button type="button" @mousedown=${keepFocus} @click=${() => format('italic')}>
                    Italic
                  </button>
                  <button type="button" @mousedown=${keepFocus} @click=${() => format('insertUnorderedList')}>
                    Bullets
                  </button>
                  <button
                    type="button"
                    @mousedown=${keepFocus}
                    @click=${() => format('formatBlock', 'blockquote')}
                  >
                    Quote
                  </button>
                `
              : nothing
          }
        </div>
        ${
          this.mode === 'html'
            ? html`<div
                class="editor"
                contenteditable="true"
                role="textbox"
                aria-multiline="true"
                aria-label="Message text"
                @input=${this.#changed}
              ></div>`
            : html`<label for="body">Message text</label>
                <textarea id="body" name="text" rows="14"></textarea>`
        }
        <div class="attach">
          <label class="button" for="files">Attach files</label>
          <input id="files" class="visually-hidden" type="file" multiple @change=${this.#onFiles} />
          <ul class="attachment-list" aria-label="Attachments">
            ${this.#attachments.map(
              (a) =>
                html`<li>
                  <span class="name">${a.filename}</span> <span class="size">${formatSize(a.size)}</span>
                  <button
                    type="button"
                    aria-label="Remove ${a.filename}"
                    @click=${() => this.#removeAttachment(a)}
                  >
                    ✕
                  </button>
                </li>`,
            )}
            ${this.uploads.map(
              (u) =>
                html`<li class="uploading">
                  <span class="name">${u.name}</span>
                  <progress max="1" .value=${u.progress} aria-label="Uploading ${u.name}"></progress>
                </li>`,
            )}
          </ul>
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${this.busy || this.uploads.length > 0}>
            ${this.busy ? 'Sending…' : 'Send'}
          </button>
          <button type="button" @click=${this.#discard}>Discard</button>
          <span class="saved" role="status">${this.saved}</span>
        </div>
      </form>
    `;
  }

  #addressField(field: Field, label: string, value: string) {
    const open = this.suggestions?.field === field && this.suggestions.list.length > 0;
    return html`
      <label for=${field}>${label}</label>
      <div class="address-field">
        <input
          id=${field}
          name=${field}
          .value=${value}
          autocomplete="off"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded=${open ? 'true' : 'false'}
          aria-controls="${field}-suggestions"
          @input=${(e: Event) => this.#suggest(field, e.target as HTMLInputElement)}
          @keydown=${(e: KeyboardEvent) => this.#suggestKey(field, e)}
          @blur=${this.#closeSuggestions}
        />
        ${
          open
            ? html`<ul class="suggestions" role="listbox" id="${field}-suggestions">
                ${this.suggestions!.list.map(
                  (c, i) =>
                    html`<li
                      role="option"
                      aria-selected=${i === this.active ? 'true' : 'false'}
                      @mousedown=${(e: Event) => {
                        e.preventDefault();
                        this.#choose(field, c);
                      }}
                    >
                      ${c.name ? `${c.name} <${c.address}>` : c.address}
                    </li>`,
                )}
              </ul>`
            : nothing
        }
      </div>
    `;
  }

  #suggest(field: Field, input: HTMLInputElement) {
    const typed = (input.value.split(/[,;]/).pop() ?? '').trim();
    const lookup = ++this.#lookup;
    if (typed.length < 2) {
      this.suggestions = null;
      return;
    }
    void api
      .contacts(typed)
      .then((list) => {
        if (lookup !== this.#lookup) return;
        this.suggestions = { field, list };
        this.active = 0;
      })
      .catch(() => {});
  }

  /** Leaving the field closes its list, unless focus came back (a click on a suggestion keeps it). */
  #closeSuggestions = (event: FocusEvent) => {
    const input = event.target as HTMLInputElement;
    setTimeout(() => {
      if (document.activeElement !== input && this.suggestions?.field === input.id) this.suggestions = null;
    }, 200);
  };

  #suggestKey(field: Field, event: KeyboardEvent) {
    const list = this.suggestions?.field === field ? this.suggestions.list : [];
    if (list.length === 0) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      this.active = (this.active + (event.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length;
    } else if (event.key === 'Enter') {
      event.preventDefault();
      this.#choose(field, list[this.active]!);
    } else if (event.key === 'Escape') {
      this.suggestions = null;
    }
  }

  #choose(field: Field, contact: Correspondent) {
    const input = this.querySelector<HTMLInputElement>(`#${field}`)!;
    const parts = input.value.split(/[,;]/);
    parts[parts.length - 1] = contact.address;
    input.value = `${parts
      .map((p) => p.trim())
      .filter(Boolean)
      .join(', ')}, `;
    this.suggestions = null;
    input.focus();
    this.#changed();
  }

  #toggleMode = () => {
    const current = this.#body();
    if (this.mode === 'html') {
      this.#editorBody = current.text;
      this.mode = 'text';
    } else {
      this.#editorBody = textToHtml(current.text);
      this.mode = 'html';
    }
    this.#changed();
  };

  #onFiles = (event: Event) => {
    const input = event.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    for (const file of files) {
      const upload = { name: file.name, progress: 0 };
      this.uploads = [...this.uploads, upload];
      void this.#run(async () => {
        try {
          const added = await api.uploadAttachment(file, (fraction) => {
            upload.progress = fraction;
            this.uploads = [...this.uploads];
          });
          this.#attachments = [...this.#attachments, added];
          this.#changed();
        } finally {
          this.uploads = this.uploads.filter((u) => u !== upload);
        }
      });
    }
  };

  #removeAttachment(attachment: UploadedAttachment) {
    this.#attachments = this.#attachments.filter((a) => a !== attachment);
    this.requestUpdate();
    this.#changed();
    void api.removeAttachment(attachment.id).catch(() => {});
  }

  #changed = () => {
    this.#dirty = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#autosave(), AUTOSAVE_MS);
  };

  #autosave(): Promise<void> {
    if (!this.#dirty || this.busy) return this.#saving;
    this.#dirty = false;
    const message = this.#outgoing(true);
    this.#saving = this.#saving.then(async () => {
      try {
        const saved = await api.saveDraft({
          ...message,
          ...(this.#draftUid ? { draftUid: this.#draftUid } : {}),
        });
        if (saved.uid !== null) this.#draftUid = saved.uid;
        this.#saveFailed = false;
        this.saved = `Draft saved at ${new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
      } catch (error) {
        this.#saveFailed = true;
        this.saved = `Draft not saved: ${error instanceof Error ? error.message : 'unknown error'}`;
      }
    });
    return this.#saving;
  }

  #body(): { text: string; html?: string } {
    if (this.mode === 'html') {
      const editor = this.querySelector<HTMLElement>('.editor');
      return { text: editor?.innerText ?? '', html: editor?.innerHTML ?? '' };
    }
    return { text: this.querySelector<HTMLTextAreaElement>('textarea#body')?.value ?? '' };
  }

  /** The form as the API takes it; a draft keeps only the addresses already complete. */
  #outgoing(forDraft: boolean): Outgoing {
    const value = (id: string) =>
      this.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)?.value ?? '';
    const split = (id: Field) =>
      value(id)
        .split(/[,;]/)
        .map((a) => a.trim())
        .filter((a) => a !== '' && (!forDraft || ADDRESS.test(a)));
    const body = this.#body();
    return {
      ...(value('from') ? { from: value('from') } : {}),
      to: split('to'),
      cc: split('cc'),
      bcc: split('bcc'),
      subject: value('subject'),
      text: body.text,
      ...(body.html !== undefined ? { html: body.html } : {}),
      attachments: this.#attachments.map((a) => a.id),
      ...(this.draft.inReplyTo ? { inReplyTo: this.draft.inReplyTo } : {}),
      ...(this.draft.forwardOf ? { forwardOf: this.draft.forwardOf } : {}),
    };
  }

  #onSend = (event: SubmitEvent) => {
    event.preventDefault();
    clearTimeout(this.#timer);
    const message = this.#outgoing(false);
    if (message.to.length + (message.cc ?? []).length + (message.bcc ?? []).length === 0) {
      this.error = 'Add at least one recipient.';
      return;
    }
    this.busy = true;
    void this.#run(async () => {
      try {
        await this.#saving;
        await api.send({ ...message, ...(this.#draftUid ? { draftUid: this.#draftUid } : {}) });
        this.#done('Message sent.');
      } finally {
        this.busy = false;
      }
    });
  };

  #discard = () => {
    clearTimeout(this.#timer);
    void this.#run(async () => {
      await this.#saving;
      if (this.#draftUid) await api.discardDraft(this.#draftUid);
      for (const a of this.#attachments) void api.removeAttachment(a.id).catch(() => {});
      this.#done(this.#draftUid ? 'Draft discarded.' : '');
    });
  };

  #done(status: string) {
    this.#finished = true;
    this.dispatchEvent(new CustomEvent('compose-done', { detail: { status }, bubbles: true }));
  }

  async #run(work: () => Promise<void>) {
    this.error = '';
    try {
      await work();
    } catch (error) {
      this.error =
        error instanceof ApiError || error instanceof Error ? error.message : 'Something went wrong.';
    }
  }
}

/** The toolbar acts on the editor's selection: keep the focus there when a button is pressed. */
function keepFocus(event: Event) {
  event.preventDefault();
}

function format(command: string, value?: string) {
  // execCommand is deprecated but still the only editing primitive every browser ships.
  document.execCommand(command, false, value);
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** Plain text into the editor: lines kept, quoted lines ("> ") as a blockquote. */
export function textToHtml(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let quoted: string[] = [];
  const flush = () => {
    if (quoted.length > 0) out.push(`<blockquote>${quoted.map(escapeHtml).join('<br>')}</blockquote>`);
    quoted = [];
  };
  for (const line of lines) {
    if (line.startsWith('>')) {
      quoted.push(line.replace(/^> ?/, ''));
      continue;
    }
    flush();
    out.push(line === '' ? '<div><br></div>' : `<div>${escapeHtml(line)}</div>`);
  }
  flush();
  return out.join('');
}

customElements.define('correo-compose', CorreoCompose);
