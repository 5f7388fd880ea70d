import { encodePlainResponse } from '@correo/auth';
import { LineClient } from '@correo/testkit';

/** The data lines of one response and the OK/NO/BYE line that ends it. */
export interface RawResponse {
  data: string[];
  status: string;
}

/** Reads lines (literals inline) until a status line. */
export async function readResponse(client: LineClient): Promise<RawResponse> {
  const data: string[] = [];
  for (;;) {
    const line = await client.readLine();
    if (/^(OK|NO|BYE)\b/.test(line)) return { data, status: line };
    data.push(line);
  }
}

/** Connects and reads the greeting (capabilities, then OK). */
export async function connectRaw(port: number): Promise<{ client: LineClient; greeting: RawResponse }> {
  const client = await LineClient.connect(port, { literals: true });
  return { client, greeting: await readResponse(client) };
}

/** Connects and logs in with PLAIN over plaintext (a gateway that allows loopback). */
export async function loggedIn(port: number, address: string, password: string): Promise<LineClient> {
  const { client } = await connectRaw(port);
  client.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, password)}"`);
  const { status } = await readResponse(client);
  if (status !== 'OK "Logged in"') throw new Error(`login failed: ${status}`);
  return client;
}
