/**
 * The CLI's client of the admin API: JSON over HTTP, server errors become one-line messages. With a token
 * (--admin-token, else env ROBUSTMQ_ADMIN_TOKEN) every request carries `Authorization: Bearer <token>`.
 */
import type { Command } from 'commander';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8080';

/** The admin API options of a command: --admin (and, added by withAdminToken, --admin-token), --json. */
export function withAdmin(cmd: Command): Command {
  return cmd
    .option('--admin <url>', 'admin API base URL (env ROBUSTMQ_ADMIN)', process.env.ROBUSTMQ_ADMIN ?? DEFAULT_ADMIN_URL)
    .option('--json', 'print JSON instead of a table');
}

let tokenFlag: string | undefined;

/** The token requests carry: the --admin-token flag, else env ROBUSTMQ_ADMIN_TOKEN. */
export function adminToken(): string | undefined {
  return tokenFlag ?? (process.env.ROBUSTMQ_ADMIN_TOKEN || undefined);
}

/**
 * Gives every admin-API command (those with an --admin option) an --admin-token option, and remembers the value
 * before the command runs.
 */
export function withAdminToken(program: Command): Command {
  const visit = (cmd: Command): void => {
    if (cmd.options.some((o) => o.long === '--admin')) {
      cmd.option('--admin-token <token>', 'admin API bearer token (env ROBUSTMQ_ADMIN_TOKEN)');
    }
    cmd.commands.forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    const value = (action.opts() as { adminToken?: unknown }).adminToken;
    if (typeof value === 'string' && action.options.some((o) => o.long === '--admin')) tokenFlag = value;
  });
  return program;
}

/** An operation the admin API refused (or, in direct mode, the store: see ./direct-ops.ts), as one line. */
export class AdminRequestError extends Error {}

export async function adminRequest<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const token = adminToken();
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    res = await fetch(url, {
      method,
      headers,
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
