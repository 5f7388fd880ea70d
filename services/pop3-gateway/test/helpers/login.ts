import { LineClient } from '@correo/testkit';

/**
 * Logs in over a fresh connection, retrying while the server still holds the lock of a session whose
 * connection the test just dropped (the server learns of the drop asynchronously).
 */
export async function loginWhenFree(port: number, address: string, password: string): Promise<LineClient> {
  for (let attempt = 0; ; attempt++) {
    const client = await LineClient.connect(port);
    await client.readLine();
    await client.ask(`USER ${address}`);
    const reply = await client.ask(`PASS ${password}`);
    if (reply.startsWith('+OK')) return client;
    client.destroy();
    if (!reply.includes('[IN-USE]') || attempt > 100) throw new Error(`login failed: ${reply}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
