import { html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { Folder, ListOrder, MessagePage, MessageSummary } from './api.js';
import { DRAG_TYPE, type DraggedMessages } from './folder-tree.js';
import { folderLabel, formatDate, formatSize } from './format.js';
import type { Selection } from './selection.js';

export type BulkAction = 'read' | 'unread' | 'flag' | 'unflag' | 'delete' | 'archive' | { move: string };

export interface MessageListHost {
  list: MessagePage | null;
  folders: Folder[];
  folder: string;
  search: string;
  order: ListOrder;
  /** The message open in the reading pane. */
  selected: number | null;
  selection: Selection;
  /** Threads shown expanded, by their first message's UID. */
  expanded: Set<number>;
  currentFolder(): Folder;
  renderEmptyFolder(total: number): TemplateResult | typeof nothing;
  goPage(page: number): void;
  setOrder(order: Partial<ListOrder>): void;
  /** A plain click opens the message (and picks it alone); Ctrl/Cmd and Shift only change the selection. */
  rowClicked(uid: number, how: { shift: boolean; toggle: boolean }): void;
  toggleThread(root: number): void;
  selectAll(on: boolean): void;
  bulk(action: BulkAction): void;
}

/** The rows as shown: in a threaded list, a collapsed thread shows its first message only. */
export function visibleMessages(host: Pick<MessageListHost, 'list' | 'expanded'>): MessageSummary[] {
  const messages = host.list?.messages ?? [];
  if (!host.list?.threaded) return messages;
  return messages.filter((m) => !m.thread || m.thread.root === m.uid || host.expanded.has(m.thread.root));
}

/**
 * The message list: sort controls (the server's SORT), conversations (THREAD=REFERENCES), one page
 * of rows at a time (a 100,000-message folder costs one SORT and a FETCH of one page), multi-select
 * with bulk actions, rows that drag onto a folder.
 */
export function renderMessageList(host: MessageListHost): TemplateResult {
  const list = host.list;
  if (!list) return html`<p class="empty">Loading…</p>`;
  const first = list.total === 0 ? 0 : (list.page - 1) * list.pageSize + 1;
  const last = Math.min(list.total, list.page * list.pageSize);
  const shown = visibleMessages(host);
  const allPicked = shown.length > 0 && shown.every((m) => host.selection.has(m.uid));
  return html`
    <div class="list-head">
      <h2>${host.search ? `Search: ${host.search}` : folderLabel(host.currentFolder())}</h2>
      ${host.renderEmptyFolder(list.total)}
      <span class="range">${first}–${last} of ${list.total}${list.threaded ? ' conversations' : ''}</span>
      <button
        type="button"
        aria-label="Newer messages"
        ?disabled=${list.page <= 1}
        @click=${() => host.goPage(list.page - 1)}
      >
        ‹
      </button>
      <button
        type="button"
        aria-label="Older messages"
        ?disabled=${last >= list.total}
        @click=${() => host.goPage(list.page + 1)}
      >
        ›
      </button>
    </div>
    <div class="list-tools">
      <input
        type="checkbox"
        id="select-all"
        .checked=${allPicked}
        @change=${(event: Event) => host.selectAll((event.target as HTMLInputElement).checked)}
      />
      <label for="select-all" class="visually-hidden">Select all</label>
      <label for="sort-by" class="visually-hidden">Sort by</label>
      <select
        id="sort-by"
        ?disabled=${host.order.threads}
        @change=${(event: Event) =>
          host.setOrder({ sort: (event.target as HTMLSelectElement).value as ListOrder['sort'] })}
      >
        ${(['arrival', 'date', 'from', 'subject', 'size'] as const).map(
          (key) =>
            html`<option value=${key} ?selected=${host.order.sort === key}>
              ${{ arrival: 'Received', date: 'Date', from: 'From', subject: 'Subject', size: 'Size' }[key]}
            </option>`,
        )}
      </select>
      <button
        type="button"
        aria-label=${host.order.order === 'desc' ? 'Descending order' : 'Ascending order'}
        title="Reverse the order"
        ?disabled=${host.order.threads}
        @click=${() => host.setOrder({ order: host.order.order === 'desc' ? 'asc' : 'desc' })}
      >
        ${host.order.order === 'desc' ? '↓' : '↑'}
      </button>
      <label class="toggle">
        <input
          type="checkbox"
          .checked=${host.order.threads}
          @change=${(event: Event) => host.setOrder({ threads: (event.target as HTMLInputElement).checked })}
        />
        Conversations
      </label>
    </div>
    ${host.selection.size > 0 ? renderBulkBar(host) : nothing}
    ${
      shown.length === 0
        ? html`<p class="empty">No messages here.</p>`
        : html`<ol class="messages" aria-multiselectable="true">
            ${repeat(
              shown,
              // Keyed by UID: a row stays with its message while live updates reorder the list, so
              // a click during a refresh opens the message that was under the pointer.
              (m) => m.uid,
              (m) => renderRow(host, m),
            )}
          </ol>`
    }
  `;
}

function renderRow(host: MessageListHost, m: MessageSummary) {
  const picked = host.selection.has(m.uid);
  const thread = m.thread;
  const isRoot = thread !== undefined && thread.root === m.uid;
  const depth = thread ? Math.min(thread.depth, 6) : 0;
  return html`<li
    class="message-item ${picked ? 'picked' : ''} depth-${depth}"
    aria-selected=${picked ? 'true' : 'false'}
  >
    <input
      type="checkbox"
      class="pick"
      aria-label="Select ${m.subject || '(no subject)'}"
      .checked=${picked}
      @click=${(event: MouseEvent) => {
        event.stopPropagation();
        host.rowClicked(m.uid, { shift: event.shiftKey, toggle: true });
      }}
    />
    <button
      type="button"
      class="message-row ${m.seen ? '' : 'unread'} ${host.selected === m.uid ? 'selected' : ''}"
      data-uid=${m.uid}
      draggable="true"
      aria-current=${host.selected === m.uid ? 'true' : 'false'}
      @click=${(event: MouseEvent) =>
        host.rowClicked(m.uid, { shift: event.shiftKey, toggle: event.ctrlKey || event.metaKey })}
      @dragstart=${(event: DragEvent) => {
        // A picked row drags the whole selection; another row drags itself alone.
        const uids = picked ? [...host.selection.uids] : [m.uid];
        const dragged: DraggedMessages = { folder: host.folder, uids };
        event.dataTransfer?.setData(DRAG_TYPE, JSON.stringify(dragged));
        event.dataTransfer?.setData('text/plain', `${uids.length} message${uids.length === 1 ? '' : 's'}`);
        if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move';
      }}
    >
      <span class="from">${m.from || '(no sender)'}</span>
      <span class="date"
        >${host.order.sort === 'size' && !host.order.threads ? formatSize(m.size) : formatDate(m.date)}</span
      >
      <span class="subject">
        ${m.flagged ? html`<span class="flag" aria-label="flagged">★</span>` : nothing}
        ${m.hasAttachments ? html`<span class="clip" aria-label="has attachments">⊕</span>` : nothing}
        ${m.subject || '(no subject)'}
      </span>
    </button>
    ${
      isRoot && thread.size > 1
        ? html`<button
            type="button"
            class="thread-toggle"
            aria-expanded=${host.expanded.has(m.uid) ? 'true' : 'false'}
            aria-label="${host.expanded.has(m.uid) ? 'Collapse' : 'Expand'} conversation of ${thread.size}"
            @click=${() => host.toggleThread(m.uid)}
          >
            ${host.expanded.has(m.uid) ? '▾' : '▸'} ${thread.size}
          </button>`
        : nothing
    }
  </li>`;
}

function renderBulkBar(host: MessageListHost) {
  const count = host.selection.size;
  const archive = host.folders.find((f) => f.specialUse === '\\Archive');
  const targets = host.folders.filter((f) => f.path !== host.folder);
  return html`<div class="bulk actions" role="toolbar" aria-label="Selected messages">
    <span class="count">${count} selected</span>
    <button type="button" @click=${() => host.bulk('read')}>Mark read</button>
    <button type="button" @click=${() => host.bulk('unread')}>Mark unread</button>
    <button type="button" @click=${() => host.bulk('flag')}>Flag</button>
    <button type="button" @click=${() => host.bulk('unflag')}>Unflag</button>
    ${
      archive && archive.path !== host.folder
        ? html`<button type="button" @click=${() => host.bulk('archive')}>Archive</button>`
        : nothing
    }
    <button type="button" @click=${() => host.bulk('delete')}>Delete</button>
    <label class="visually-hidden" for="bulk-move">Move selected to folder</label>
    <select
      id="bulk-move"
      @change=${(event: Event) => {
        const to = (event.target as HTMLSelectElement).value;
        if (to) host.bulk({ move: to });
      }}
    >
      <option value="">Move to…</option>
      ${targets.map((f) => html`<option value=${f.path}>${folderLabel(f)}</option>`)}
    </select>
  </div>`;
}
