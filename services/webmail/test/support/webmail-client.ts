import assert from 'node:assert/strict';

/**
 * The webmail's JSON API as its own page calls it (session cookie, Origin, X-CSRF-Token), for tests
 * that check what the server does rather than what the page shows.
 */
export class WebmailClient {
  private constructor(
    readonly baseUrl: string,
    private readonly cookie: string,
    private readonly csrfToken: string,
  ) {}

  static async signIn(baseUrl: string, address: string, password: string): Promise<WebmailClient> {
    const response = await fetch(`${baseUrl}/api/session`, {
      method: 'POST',
      headers: { origin: baseUrl, 'content-type': 'application/json' },
      body: JSON.stringify({ address, password }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { csrfToken } = (await response.json()) as { csrfToken: string };
    return new WebmailClient(baseUrl, cookie, csrfToken);
  }

  /** The answer's status and parsed JSON body (null for an empty one). */
  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{
    status: number;
    body: Record<string, unknown> & { error?: { code: string; message: string } };
  }> {
    const headers: Record<string, string> = { cookie: this.cookie, origin: this.baseUrl };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as never) : ({} as never) };
  }

  /** Like call(), asserting a 2xx. */
  async ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call(method, path, body);
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${JSON.stringify(answer)}`);
    return answer.body as T;
  }

  async upload(
    filename: string,
    type: string,
    content: Buffer,
  ): Promise<{
    status: number;
    body: Record<string, unknown> & { error?: { code: string; message: string } };
  }> {
    const query = new URLSearchParams({ filename, type }).toString();
    const response = await fetch(`${this.baseUrl}/api/attachments?${query}`, {
      method: 'POST',
      headers: {
        cookie: this.cookie,
        origin: this.baseUrl,
        'x-csrf-token': this.csrfToken,
        'content-type': 'application/octet-stream',
      },
      body: new Uint8Array(content),
    });
    return { status: response.status, body: (await response.json()) as never };
  }

  async download(path: string): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, { headers: { cookie: this.cookie } });
  }
}
