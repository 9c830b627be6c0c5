/** The CLI's client of the admin API: JSON over HTTP, server errors become one-line messages. */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8080';

export class AdminRequestError extends Error {}

export async function adminRequest<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new AdminRequestError(`cannot reach the admin API at ${base}: ${cause}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new AdminRequestError(error ? `${error.message} (${error.code})` : `admin API answered HTTP ${res.status}`);
  }
  return json as T;
}
