/**
 * Interprets the message descriptions of schema.ts: decode a struct from a Reader, encode one into a Writer, for a
 * given API version. Flexible versions (KIP-482) use compact strings/arrays/bytes and end every struct with tagged
 * fields; unknown tags are skipped, as the protocol requires.
 */
import { malformed, Reader } from './reader.js';
import { defaultOf, inRange, type FieldDef, type Records, type Struct, type TypeDef } from './schema.js';
import { Writer } from './writer.js';

interface Mode {
  readonly version: number;
  readonly flexible: boolean;
}

export function decode<T>(schema: Struct<T>, reader: Reader, version: number, flexible: boolean): T {
  return decodeStruct(schema.def.fields, reader, { version, flexible }) as T;
}

export function encode<T>(schema: Struct<T>, writer: Writer, value: T, version: number, flexible: boolean): Writer {
  encodeStruct(schema.def.fields, writer, value as Record<string, unknown>, { version, flexible });
  return writer;
}

function isTaggedIn(f: FieldDef, m: Mode): boolean {
  return m.flexible && f.tagged !== undefined && inRange(f.tagged, m.version);
}

function fresh(f: FieldDef): unknown {
  if (f.type.kind === 'array' && Array.isArray(f.default) && f.default.length === 0) return [];
  if (f.type.kind === 'struct' && f.default !== null) return defaultOf(f.type, false);
  return f.default;
}

function decodeStruct(fields: readonly FieldDef[], r: Reader, m: Mode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const absent = !inRange(f.versions, m.version) || isTaggedIn(f, m);
    out[f.name] = absent ? fresh(f) : decodeValue(f.type, r, m, inRange(f.nullable, m.version));
  }
  if (m.flexible) {
    const count = r.uvarint();
    if (count * 2 > r.remaining) throw malformed(`${count} tagged fields claimed in ${r.remaining} bytes`);
    for (let i = 0; i < count; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      const f = fields.find((x) => x.tag === tag && isTaggedIn(x, m) && inRange(x.versions, m.version));
      if (!f) {
        r.skip(size);
        continue;
      }
      const sub = new Reader(r.buf, r.pos, r.pos + size);
      r.skip(size);
      out[f.name] = decodeValue(f.type, sub, m, inRange(f.nullable, m.version));
    }
  }
  return out;
}

function minSize(def: TypeDef, flexible: boolean): number {
  switch (def.kind) {
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return flexible ? 1 : 2;
    case 'bytes':
    case 'records':
    case 'array':
      return flexible ? 1 : 4;
    default:
      return 1;
  }
}

function decodeValue(def: TypeDef, r: Reader, m: Mode, nullable: boolean): unknown {
  const c = m.flexible;
  switch (def.kind) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'bool':
      return r.bool();
    case 'uuid':
      return r.uuid();
    case 'string': {
      const s = r.string(c);
      return s === null && !nullable ? '' : s;
    }
    case 'bytes':
    case 'records': {
      const b = r.bytes(c);
      return b === null && !nullable ? Buffer.alloc(0) : b;
    }
    case 'array': {
      const n = r.arrayLength(c, minSize(def.of, c));
      if (n < 0) return nullable ? null : [];
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(decodeValue(def.of, r, m, false));
      return items;
    }
    case 'struct':
      return decodeStruct(def.fields, r, m);
  }
}

function encodeStruct(fields: readonly FieldDef[], w: Writer, value: Record<string, unknown>, m: Mode): void {
  const tagged: FieldDef[] = [];
  for (const f of fields) {
    if (!inRange(f.versions, m.version)) continue;
    if (isTaggedIn(f, m)) {
      if (differsFromDefault(f, value[f.name])) tagged.push(f);
      continue;
    }
    encodeValue(f.type, w, value[f.name], m, inRange(f.nullable, m.version), f.default);
  }
  if (!m.flexible) return;
  tagged.sort((a, b) => a.tag! - b.tag!);
  w.uvarint(tagged.length);
  for (const f of tagged) {
    const sub = new Writer(256);
    encodeValue(f.type, sub, value[f.name], m, inRange(f.nullable, m.version), f.default);
    const chunks = sub.finish();
    w.uvarint(f.tag!).uvarint(chunks.reduce((n, ch) => n + ch.length, 0));
    for (const ch of chunks) w.raw(ch);
  }
}

function differsFromDefault(f: FieldDef, v: unknown): boolean {
  if (v === undefined || v === f.default) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function encodeValue(def: TypeDef, w: Writer, v: unknown, m: Mode, nullable: boolean, fallback: unknown): void {
  if (v === undefined || (v === null && !nullable)) v = fallback ?? defaultOf(def, false);
  const c = m.flexible;
  switch (def.kind) {
    case 'int8':
      w.int8(v as number);
      return;
    case 'int16':
      w.int16(v as number);
      return;
    case 'uint16':
      w.uint16(v as number);
      return;
    case 'int32':
      w.int32(v as number);
      return;
    case 'int64':
      w.int64(v as number);
      return;
    case 'float64':
      w.float64(v as number);
      return;
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'uuid':
      w.uuid(v as string);
      return;
    case 'string':
      w.string(v as string | null, c);
      return;
    case 'bytes':
      w.bytes(v as Buffer | null, c);
      return;
    case 'records':
      if (v === null) w.bytes(null, c);
      else w.chunked(Buffer.isBuffer(v) ? [v] : (v as Records as readonly Buffer[]), c);
      return;
    case 'array': {
      const items = v as unknown[] | null;
      w.arrayLength(items === null ? null : items.length, c);
      if (items) for (const item of items) encodeValue(def.of, w, item, m, false, undefined);
      return;
    }
    case 'struct':
      encodeStruct(def.fields, w, (v ?? {}) as Record<string, unknown>, m);
      return;
  }
}
