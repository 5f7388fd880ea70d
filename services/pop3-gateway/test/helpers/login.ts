import { eventually, LineClient } from '@correo/testkit';

/**
 * Logs in over a fresh connection, retrying while the server still holds the lock of a session whose
 * connection the test just dropped (the server learns of the drop asynchronously). Gives up after
 * `timeoutMs`: a test that needs the release to let it in sets a lock ttl far beyond that.
 */
export async function loginWhenFree(
  port: number,
  address: string,
  password: string,
  timeoutMs = 10_000,
): Promise<LineClient> {
  let loggedIn: LineClient | undefined;
  let last = '';
  await eventually(
    `a login to ${address} past [IN-USE]`,
    async () => {
      const client = await LineClient.connect(port);
      await client.readLine();
      await client.ask(`USER ${address}`);
      last = await client.ask(`PASS ${password}`);
      if (last.startsWith('+OK')) {
        loggedIn = client;
        return true;
      }
      client.destroy();
      if (!last.includes('[IN-USE]')) throw new Error(`login failed: ${last}`);
      return false;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last reply: ${last}`);
  });
  return loggedIn!;
}
