/** The webmail server's JSON API (services/webmail/src/routes), typed for the page by src/api-types.ts. */

export type {
  AuthenticationSummary,
  Folder,
  MessagePage,
  MessageSummary,
  OpenedMessage as MessageView,
  Outgoing,
  UploadedAttachment,
  UserSettings,
  ClientSetup,
  Correspondent,
  OpenedDraft,
  SavedDraft,
  Rule,
  RuleAction,
  RuleCondition,
  SieveForms,
  VacationForm,
} from '../../src/api-types.js';
import type {
  ClientSetup,
  Correspondent,
  Folder,
  MessageHeaders,
  MessagePage,
  OpenedDraft,
  OpenedMessage,
  Outgoing,
  SavedDraft,
  Rule,
  SieveForms,
  UploadedAttachment,
  UserSettings,
  VacationForm,
} from '../../src/api-types.js';

/** How the list is asked for: SORT key and order, or conversations (THREAD=REFERENCES). */
export interface ListOrder {
  sort: 'arrival' | 'date' | 'from' | 'subject' | 'size';
  order: 'asc' | 'desc';
  threads: boolean;
}

/** A refusal in the user's words, as the server phrased it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Which field is wrong; for a Sieve script, the line and column the server named. */
    readonly details?: { field: string; message: string; line?: number; column?: number }[],
  ) {
    super(message);
  }
}

let csrfToken = '';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'offline', 'The webmail server cannot be reached. Check your connection.');
  }
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (
      data as { error?: { code?: string; message?: string; details?: ApiError['details'] } } | null
    )?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'error',
      error?.message ?? `Request failed (${response.status}).`,
      error?.details,
    );
  }
  return data as T;
}

export const query = (params: Record<string, string | number | boolean | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) => (v === undefined || v === '' ? [] : [[k, String(v)]])),
  ).toString();

export const api = {
  async signIn(address: string, password: string): Promise<string> {
    const session = await call<{ address: string; csrfToken: string }>('POST', '/api/session', {
      address,
      password,
    });
    csrfToken = session.csrfToken;
    return session.address;
  },
  async resume(): Promise<string | null> {
    try {
      const session = await call<{ address: string; csrfToken: string }>('GET', '/api/session');
      csrfToken = session.csrfToken;
      return session.address;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  signOut: () => call<void>('DELETE', '/api/session'),
  folders: () => call<{ folders: Folder[] }>('GET', '/api/folders').then((r) => r.folders),
  messages: (params: { folder: string; page: number; q?: string | undefined } & Partial<ListOrder>) =>
    call<MessagePage>('GET', `/api/messages?${query({ ...params, threads: params.threads || undefined })}`),
  message: (folder: string, uid: number) =>
    call<OpenedMessage>('GET', `/api/message?${query({ folder, uid })}`),
  setFlags: (folder: string, uids: number[], flags: { seen?: boolean; flagged?: boolean }) =>
    call<void>('POST', '/api/messages/flags', { folder, uids, ...flags }),
  move: (folder: string, uids: number[], to: string) =>
    call<void>('POST', '/api/messages/move', { folder, uids, to }),
  empty: (folder: string) => call<void>('POST', '/api/folders/empty', { folder }),
  remove: (folder: string, uids: number[]) => call<void>('POST', '/api/messages/delete', { folder, uids }),
  send: (message: Outgoing) => call<{ sent: boolean }>('POST', '/api/send', message),
  saveDraft: (message: Outgoing) => call<SavedDraft>('POST', '/api/drafts', message),
  openDraft: (uid: number) => call<OpenedDraft>('GET', `/api/drafts/open?${query({ uid })}`),
  discardDraft: (uid: number) => call<void>('DELETE', `/api/drafts/${uid}`),
  contacts: (q: string) =>
    call<{ contacts: Correspondent[] }>('GET', `/api/contacts?${query({ q })}`).then((r) => r.contacts),
  identities: () => call<{ addresses: string[]; displayName: string }>('GET', '/api/identities'),
  removeAttachment: (id: string) => call<void>('DELETE', `/api/attachments/${encodeURIComponent(id)}`),
  originalAttachments: (folder: string, uid: number) =>
    call<{ attachments: UploadedAttachment[] }>('POST', '/api/attachments/from-message', {
      folder,
      uid,
    }).then((r) => r.attachments),
  /** XMLHttpRequest, not fetch: only it reports upload progress. */
  uploadAttachment(file: File, onProgress: (fraction: number) => void): Promise<UploadedAttachment> {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(
        'POST',
        `/api/attachments?${query({ filename: file.name, type: file.type || undefined })}`,
      );
      request.setRequestHeader('content-type', 'application/octet-stream');
      request.setRequestHeader('x-csrf-token', csrfToken);
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      request.onerror = () =>
        reject(new ApiError(0, 'offline', 'The webmail server cannot be reached. Check your connection.'));
      request.onload = () => {
        const data = (() => {
          try {
            return JSON.parse(request.responseText) as unknown;
          } catch {
            return null;
          }
        })();
        if (request.status === 201) return resolve(data as UploadedAttachment);
        const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
        reject(
          new ApiError(
            request.status,
            error?.code ?? 'error',
            error?.message ?? `Upload failed (${request.status}).`,
          ),
        );
      };
      request.send(file);
    });
  },
  settings: () => call<UserSettings>('GET', '/api/settings'),
  saveSettings: (settings: Partial<UserSettings>) => call<UserSettings>('PUT', '/api/settings', settings),
  clientSetup: () => call<ClientSetup>('GET', '/api/settings/client-setup'),
  mobileconfigUrl: '/api/settings/mobileconfig',
  sieve: () => call<SieveForms>('GET', '/api/sieve'),
  saveRules: (rules: Rule[]) => call<SieveForms>('PUT', '/api/sieve/rules', { rules }),
  saveVacation: (vacation: VacationForm) => call<SieveForms>('PUT', '/api/sieve/vacation', vacation),
  saveScript: (script: string) => call<SieveForms>('PUT', '/api/sieve/script', { script }),
  createFolder: (folder: string) => call<void>('POST', '/api/folders', { folder }),
  renameFolder: (folder: string, to: string) => call<void>('POST', '/api/folders/rename', { folder, to }),
  deleteFolder: (folder: string) => call<void>('POST', '/api/folders/delete', { folder }),
  headers: (folder: string, uid: number) =>
    call<MessageHeaders>('GET', `/api/message/headers?${query({ folder, uid })}`).then((r) => r.headers),
  /** The message as stored, as text for the "raw source" view (at most `limit` characters). */
  async rawSource(folder: string, uid: number, limit: number): Promise<{ text: string; cut: boolean }> {
    const response = await fetch(`/api/message/source?${query({ folder, uid })}`, {
      credentials: 'same-origin',
    });
    if (!response.ok)
      throw new ApiError(response.status, 'error', 'The source of this message could not be read.');
    const text = await response.text();
    return { text: text.slice(0, limit), cut: text.length > limit };
  },
  imageSender: (sender: string, allow: boolean) =>
    call<void>('POST', '/api/image-senders', { sender, allow }),
  bodyUrl: (folder: string, uid: number, images: boolean) =>
    `/api/message/body?${query({ folder, uid, images: images || undefined })}`,
  sourceUrl: (folder: string, uid: number) => `/api/message/source?${query({ folder, uid })}`,
  attachmentUrl: (folder: string, uid: number, index: number) =>
    `/api/message/attachment?${query({ folder, uid, index })}`,
};
