/** Small HTTP helpers for the admin API: JSON bodies with a size limit, JSON responses, error mapping. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RobustMQError, type ErrorCode } from '../errors.js';

const MAX_BODY = 1024 * 1024;

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  STORAGE_UNAVAILABLE: 503,
  NOT_LEADER: 503,
  CLOSED: 503,
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): number {
  const e = err instanceof RobustMQError ? err : new RobustMQError('INTERNAL', 'internal error', { cause: err });
  const status = STATUS[e.code] ?? 500;
  sendJson(res, status, { error: { code: e.code, message: e.message, retriable: e.retriable } });
  return status;
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RobustMQError('INVALID_ARGUMENT', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RobustMQError('INVALID_ARGUMENT', 'request body is not valid JSON');
  }
}
