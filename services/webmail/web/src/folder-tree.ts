import { html, nothing, type TemplateResult } from 'lit';
import type { Folder } from './api.js';
import { folderLabel } from './format.js';

/** What a message row carries when dragged onto a folder. */
export const DRAG_TYPE = 'application/x-correo-messages';

export interface DraggedMessages {
  folder: string;
  uids: number[];
}

/** The folder being created, renamed or (awaiting confirmation) deleted. */
export type FolderEdit =
  { kind: 'create' } | { kind: 'rename'; path: string } | { kind: 'delete'; path: string };

export interface FolderTreeHost {
  folders: Folder[];
  folder: string;
  folderEdit: FolderEdit | null;
  openFolder(path: string): void;
  moveDropped(dragged: DraggedMessages, to: string): void;
  editFolder(edit: FolderEdit | null): void;
  createFolder(path: string): void;
  renameFolder(path: string, to: string): void;
  deleteFolder(path: string): void;
}

/** The inbox and the special-use folders keep their names and cannot be deleted (the server agrees). */
export function isOwnFolder(folder: Folder): boolean {
  return folder.path.toUpperCase() !== 'INBOX' && !folder.specialUse;
}

/**
 * The folder tree: special-use icons, unread counts (LIST-STATUS), subfolders indented under their
 * parents, drop targets for dragged messages, and create/rename/delete of the user's own folders.
 */
export function renderFolderTree(host: FolderTreeHost): TemplateResult {
  const current = host.folders.find((f) => f.path === host.folder);
  return html`<ul>
      ${host.folders.map((folder) => renderFolder(host, folder))}
    </ul>
    <div class="folder-actions">${renderFolderEdit(host, current)}</div>`;
}

function renderFolder(host: FolderTreeHost, folder: Folder) {
  const depth = folder.delimiter ? folder.path.split(folder.delimiter).length - 1 : 0;
  const accepts = (event: DragEvent) => event.dataTransfer?.types.includes(DRAG_TYPE) ?? false;
  return html`<li>
    <button
      type="button"
      class="folder depth-${Math.min(depth, 4)}"
      data-path=${folder.path}
      aria-current=${folder.path === host.folder ? 'true' : 'false'}
      @click=${() => host.openFolder(folder.path)}
      @dragover=${(event: DragEvent) => {
        if (!accepts(event) || folder.path === host.folder) return;
        event.preventDefault();
        if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
        (event.currentTarget as HTMLElement).classList.add('drop-target');
      }}
      @dragleave=${(event: DragEvent) => (event.currentTarget as HTMLElement).classList.remove('drop-target')}
      @drop=${(event: DragEvent) => {
        (event.currentTarget as HTMLElement).classList.remove('drop-target');
        const data = event.dataTransfer?.getData(DRAG_TYPE);
        if (!data) return;
        event.preventDefault();
        host.moveDropped(JSON.parse(data) as DraggedMessages, folder.path);
      }}
    >
      <span class="icon" aria-hidden="true">${folderIcon(folder)}</span>
      <span class="name">${depth > 0 ? folder.name : folderLabel(folder)}</span>
      ${
        folder.unseen > 0
          ? html`<span class="unseen" aria-label="${folder.unseen} unread">${folder.unseen}</span>`
          : nothing
      }
    </button>
  </li>`;
}

function renderFolderEdit(host: FolderTreeHost, current: Folder | undefined) {
  const edit = host.folderEdit;
  if (edit?.kind === 'create' || edit?.kind === 'rename') {
    const renaming = edit.kind === 'rename';
    return html`<form
      class="folder-form"
      @submit=${(event: SubmitEvent) => {
        event.preventDefault();
        const name = String(new FormData(event.target as HTMLFormElement).get('name') ?? '').trim();
        if (!name) return;
        if (edit.kind === 'rename') host.renameFolder(edit.path, name);
        else host.createFolder(name);
      }}
    >
      <label for="folder-name">${renaming ? 'New name' : 'Folder name'}</label>
      <input id="folder-name" name="name" required maxlength="200" .value=${renaming ? edit.path : ''} />
      <div class="actions">
        <button type="submit" class="primary">${renaming ? 'Rename' : 'Create'}</button>
        <button type="button" @click=${() => host.editFolder(null)}>Cancel</button>
      </div>
    </form>`;
  }
  if (edit?.kind === 'delete') {
    const folder = host.folders.find((f) => f.path === edit.path);
    const count = folder?.messages ?? 0;
    return html`<p role="alert">
        Delete "${edit.path}"${count > 0 ? ` and its ${count} message${count === 1 ? '' : 's'}` : ''} for
        good?
      </p>
      <div class="actions">
        <button type="button" class="danger" @click=${() => host.deleteFolder(edit.path)}>
          Delete folder
        </button>
        <button type="button" @click=${() => host.editFolder(null)}>Cancel</button>
      </div>`;
  }
  return html`<div class="actions">
    <button type="button" @click=${() => host.editFolder({ kind: 'create' })}>New folder</button>
    ${
      current && isOwnFolder(current)
        ? html`<button type="button" @click=${() => host.editFolder({ kind: 'rename', path: current.path })}>
              Rename
            </button>
            <button type="button" @click=${() => host.editFolder({ kind: 'delete', path: current.path })}>
              Delete
            </button>`
        : nothing
    }
  </div>`;
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
