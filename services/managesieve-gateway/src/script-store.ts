import {
  activateSieveScript,
  deleteSieveScript,
  getSieveScript,
  listSieveScriptNames,
  putSieveScript,
  renameSieveScript,
  type Pool,
} from '@correo/store';

/**
 * What a ManageSieve session needs of the store, per account (the session never sees another).
 * Every method may reject when the backend is down: the session answers NO (TRYLATER).
 */
export interface ScriptStore {
  list(accountId: string): Promise<{ name: string; active: boolean }[]>;
  get(accountId: string, name: string): Promise<string | undefined>;
  /** Stores (or replaces) `name`; 'too-many' when it is a new name beyond `maxScripts`. */
  put(accountId: string, name: string, content: string, maxScripts: number): Promise<'stored' | 'too-many'>;
  /** null: no script active. False when there is no script `name`. */
  activate(accountId: string, name: string | null): Promise<boolean>;
  delete(accountId: string, name: string): Promise<'deleted' | 'active' | 'missing'>;
  rename(accountId: string, from: string, to: string): Promise<'renamed' | 'missing' | 'exists'>;
}

/** The sieve_scripts table (libs/store): the same rows the mda runs the active one of at delivery. */
export function createScriptStore(pool: Pool, maxScriptBytes: number): ScriptStore {
  return {
    list: (accountId) => listSieveScriptNames(pool, accountId),
    get: async (accountId, name) => (await getSieveScript(pool, accountId, name))?.content,
    put: (accountId, name, content, maxScripts) =>
      putSieveScript(pool, accountId, name, content, { maxBytes: maxScriptBytes, maxScripts }),
    activate: (accountId, name) => activateSieveScript(pool, accountId, name),
    delete: (accountId, name) => deleteSieveScript(pool, accountId, name),
    rename: (accountId, from, to) => renameSieveScript(pool, accountId, from, to),
  };
}
