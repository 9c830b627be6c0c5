/**
 * Payloads of the embedded meta log (the JSON inside each frame). The first frame of a file is a header; every
 * other frame is one atomic write record listing absolute entry states, so replaying a record twice is harmless
 * and a snapshot is just a run of write records:
 *
 *   {"h":"robustmq-meta","f":1}
 *   {"w":[{"n":ns,"k":key,"r":version,"x":expiresAt?,"v":value}, {"n":ns,"k":key,"d":1}, ...]}
 *
 * Items are built as strings so the value JSON, already produced when the write was validated, is not encoded
 * twice, and so each item's size is known for the live-size estimate that drives compaction.
 */
import { NAMESPACES, type Namespace } from '../store.js';

export const LOG_MAGIC = 'robustmq-meta';
export const LOG_FORMAT = 1;

export function headerPayload(): Buffer {
  return Buffer.from(JSON.stringify({ h: LOG_MAGIC, f: LOG_FORMAT }));
}

export function isHeader(payload: Buffer): boolean {
  const parsed = tryParse(payload) as { h?: unknown; f?: unknown } | undefined;
  return parsed !== undefined && parsed.h === LOG_MAGIC && parsed.f === LOG_FORMAT;
}

/** `valueJson` is the already-encoded value. */
export function putItem(ns: Namespace, key: string, version: number, valueJson: string, expiresAt?: number): string {
  const x = expiresAt === undefined ? '' : `,"x":${expiresAt}`;
  return `{"n":${JSON.stringify(ns)},"k":${JSON.stringify(key)},"r":${version}${x},"v":${valueJson}}`;
}

export function deleteItem(ns: Namespace, key: string): string {
  return `{"n":${JSON.stringify(ns)},"k":${JSON.stringify(key)},"d":1}`;
}

export function writePayload(items: readonly string[]): Buffer {
  return Buffer.from(`{"w":[${items.join(',')}]}`);
}

export type ReplayItem =
  | { kind: 'put'; ns: Namespace; key: string; version: number; valueJson: string; expiresAt?: number }
  | { kind: 'delete'; ns: Namespace; key: string };

/** Parses a write record; undefined when the payload is not a well-formed one. */
export function parseWritePayload(payload: Buffer): ReplayItem[] | undefined {
  const parsed = tryParse(payload) as { w?: unknown } | undefined;
  if (parsed === undefined || !Array.isArray(parsed.w)) return undefined;
  const items: ReplayItem[] = [];
  for (const raw of parsed.w as unknown[]) {
    const item = parseItem(raw);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return items;
}

function parseItem(raw: unknown): ReplayItem | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { n, k, r, x, v, d } = raw as Record<string, unknown>;
  if (!NAMESPACES.includes(n as Namespace) || typeof k !== 'string') return undefined;
  const ns = n as Namespace;
  if (d === 1) return { kind: 'delete', ns, key: k };
  if (!Number.isSafeInteger(r) || (r as number) < 1 || v === undefined) return undefined;
  if (x !== undefined && typeof x !== 'number') return undefined;
  const item: ReplayItem = { kind: 'put', ns, key: k, version: r as number, valueJson: JSON.stringify(v) };
  if (typeof x === 'number') item.expiresAt = x;
  return item;
}

function tryParse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
