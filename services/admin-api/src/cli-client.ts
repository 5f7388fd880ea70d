import type { ApiErrorBody } from './api-error.js';

/** An error the CLI prints as is: the API's own message and field details, or why the API was unreachable. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface AdminClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Every item of a paginated list, following nextCursor. */
  listAll<T>(path: string, query?: Record<string, string>): Promise<T[]>;
}

function describeApiError(status: number, body: unknown): string {
  const error = (body as Partial<ApiErrorBody> | undefined)?.error;
  if (!error?.message) return `the admin API answered HTTP ${status}`;
  const lines = [error.message];
  for (const detail of error.details ?? []) {
    if (!error.message.includes(detail.message)) lines.push(`  ${detail.field}: ${detail.message}`);
  }
  return lines.join('\n');
}

export function createAdminClient(baseUrl: string, token: string): AdminClient {
  const root = baseUrl.replace(/\/+$/, '');

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the admin API at ${root}: ${cause?.code ?? cause?.message ?? String(error)}`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(
        `the admin API at ${root} answered HTTP ${response.status} with something that is not JSON`,
      );
    }
    if (!response.ok) throw new CliError(describeApiError(response.status, parsed));
    return parsed as T;
  }

  return {
    request,
    async listAll<T>(path: string, query: Record<string, string> = {}) {
      const items: T[] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
        const page: { items: T[]; nextCursor: string | null } = await request('GET', `${path}?${params}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    },
  };
}
