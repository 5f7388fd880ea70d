export interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, { ok: true } | { ok: false; error: string }> };
}

/** GET /readyz; rejects while nothing listens yet, so callers poll it with eventually(). */
export async function readyz(port: number): Promise<Readiness> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}
