import type { Directory } from '@correo/directory';
import type { Pool } from '@correo/store';
import type { UserSettings } from './api-types.js';
import { WebmailError } from './webmail-error.js';

export type { UserSettings } from './api-types.js';

export const DEFAULT_SETTINGS: UserSettings = {
  displayName: '',
  signature: '',
  replyMode: 'reply',
  imagesPolicy: 'ask',
  // Plain text unless the user picks rich text: what every recipient's client shows the same way.
  composeMode: 'text',
};

/** The JSON schema of PUT /api/settings: every field bounded, no unknown ones. */
export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    displayName: { type: 'string', maxLength: 200 },
    signature: { type: 'string', maxLength: 10_000 },
    replyMode: { type: 'string', enum: ['reply', 'reply-all'] },
    imagesPolicy: { type: 'string', enum: ['ask', 'always', 'never'] },
    composeMode: { type: 'string', enum: ['html', 'text'] },
  },
} as const;

/**
 * The signed-in user's webmail settings, kept server-side per account (webmail_settings, removed with
 * the account) so they follow the user to any browser. The account is the one the directory resolves
 * the signed-in address to: the row can only ever be the user's own.
 */
export class UserSettingsStore {
  constructor(
    private readonly pool: Pool,
    private readonly directory: Directory,
  ) {}

  async get(address: string): Promise<UserSettings> {
    const accountId = await this.accountId(address);
    const { rows } = await this.pool.query<{ settings: Partial<UserSettings> }>(
      'SELECT settings FROM webmail_settings WHERE account_id = $1',
      [accountId],
    );
    return { ...DEFAULT_SETTINGS, ...(rows[0]?.settings ?? {}) };
  }

  /** Merges `changes` into what is stored; returns the whole, as saved. */
  async update(address: string, changes: Partial<UserSettings>): Promise<UserSettings> {
    const accountId = await this.accountId(address);
    const { rows } = await this.pool.query<{ settings: Partial<UserSettings> }>(
      `INSERT INTO webmail_settings (account_id, settings) VALUES ($1, $2::jsonb)
       ON CONFLICT (account_id) DO UPDATE
         SET settings = webmail_settings.settings || excluded.settings, updated_at = now()
       RETURNING settings`,
      [accountId, JSON.stringify(changes)],
    );
    return { ...DEFAULT_SETTINGS, ...(rows[0]?.settings ?? {}) };
  }

  /** May the signed-in account put `from` in From (its own address, an alias of it, a send-as grant)? */
  async maySendAs(address: string, from: string): Promise<boolean> {
    if (from.toLowerCase() === address.toLowerCase()) return true;
    const resolution = await this.directory.resolveRecipient(address);
    const account = resolution.kind === 'deliver' ? resolution.accounts[0] : undefined;
    return account ? this.directory.maySendAs(account, from) : false;
  }

  /**
   * The addresses the From field offers: the signed-in one, then the aliases delivering to it that the
   * directory lets it send as (a domain-wide send-as grant has no one address to list).
   */
  async identities(address: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ source: string }>(
      `SELECT DISTINCT a.source FROM aliases a JOIN alias_targets t ON t.alias_id = a.id
       WHERE lower(t.target) = lower($1) AND a.source NOT LIKE '@%'
       ORDER BY a.source LIMIT 20`,
      [address],
    );
    const owned = await Promise.all(
      rows.map(async ({ source }) => ((await this.maySendAs(address, source)) ? [source] : [])),
    );
    return [address, ...owned.flat()];
  }

  private async accountId(address: string): Promise<string> {
    const resolution = await this.directory.resolveRecipient(address);
    const account = resolution.kind === 'deliver' ? resolution.accounts[0] : undefined;
    if (!account) {
      throw new WebmailError(404, 'account_not_found', 'Your account was not found; sign in again.');
    }
    return account.accountId;
  }
}
