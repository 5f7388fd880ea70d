import type { AccountRef, Directory } from '@correo/directory';

/**
 * The directory's login half for one account, for session tests without PostgreSQL (the Postgres
 * directory and its argon2 hashes have their own tests): the right password gives the account,
 * anything else null; other logins get a key of their own, as unknown addresses do.
 */
export function oneAccountDirectory(
  account: AccountRef,
  password: string,
): Pick<Directory, 'loginKey' | 'authenticate'> {
  const address = account.address.toLowerCase();
  return {
    loginKey: async (login) =>
      login.toLowerCase() === address ? `account:${account.accountId}` : `address:${login}`,
    authenticate: async (login, given) =>
      login.toLowerCase() === address && given === password ? account : null,
  };
}
