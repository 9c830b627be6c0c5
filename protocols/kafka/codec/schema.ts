/**
 * A declarative description of Kafka messages, transcribed from Apache Kafka's message definitions (the JSON files
 * in clients/src/main/resources/common/message): every field names the versions it exists in, the versions in
 * which it may be null, and — for tagged fields (KIP-482) — its tag. `codec.ts` interprets these descriptions, so
 * one description serves every version of a message, classic and flexible.
 *
 *   const Request = struct({
 *     topics: field(array(struct({ name: field(string, '0+') })), '0+', { nullable: '1+' }),
 *     allowAutoTopicCreation: field(bool, '4+', { default: true }),
 *   });
 *   type Request = Infer<typeof Request>;
 */

/** Inclusive version range; `max` is Infinity for "N+". */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };

/** Parses Kafka's version notation: "3", "0-7", "4+", "none". */
export function versions(spec: string): VersionRange {
  if (spec === 'none') return NO_VERSIONS;
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return { min: Number(plus[1]), max: Infinity };
  const range = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!range) throw new Error(`bad version range "${spec}"`);
  return { min: Number(range[1]), max: Number(range[2] ?? range[1]) };
}

export function inRange(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max;
}

export type PrimitiveKind =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type TypeDef =
  | { readonly kind: PrimitiveKind }
  | { readonly kind: 'array'; readonly of: TypeDef }
  | { readonly kind: 'struct'; readonly fields: readonly FieldDef[] };

export interface FieldDef {
  readonly name: string;
  readonly type: TypeDef;
  readonly versions: VersionRange;
  readonly nullable: VersionRange;
  /** Set for tagged fields: the tag, and the versions in which the field is sent as a tagged field. */
  readonly tag?: number;
  readonly tagged?: VersionRange;
  readonly default: unknown;
}

/** A type token carrying the TypeScript type of its values. */
export interface Type<T> {
  readonly def: TypeDef;
  readonly __value?: T;
}

/**
 * Record sets as found in Produce and Fetch: decoded as one view of the request buffer; encoded from a buffer or a
 * list of buffers (stored batches, sent without copying).
 */
export type Records = Buffer | readonly Buffer[];

const prim = <T>(kind: PrimitiveKind): Type<T> => ({ def: { kind } });
export const int8 = prim<number>('int8');
export const int16 = prim<number>('int16');
export const uint16 = prim<number>('uint16');
export const int32 = prim<number>('int32');
export const int64 = prim<number>('int64');
export const float64 = prim<number>('float64');
export const bool = prim<boolean>('bool');
export const string = prim<string>('string');
export const bytes = prim<Buffer>('bytes');
export const records = prim<Records>('records');
/** UUIDs are 32 lowercase hex digits. */
export const uuid = prim<string>('uuid');
export const ZERO_UUID = '0'.repeat(32);

export function array<T>(of: Type<T>): Type<T[]> {
  return { def: { kind: 'array', of: of.def } };
}

/** A field description; `Optional` is true for tagged fields, which a response may leave out. */
export interface Field<T, Optional extends boolean = false> {
  readonly build: (name: string) => FieldDef;
  readonly __value?: T;
  readonly __optional?: Optional;
}

export interface FieldOptions<T> {
  /** Versions in which the field may be null (Kafka's nullableVersions). */
  nullable?: string;
  /** Value used when the field is absent in a version (and the value tagged fields are compared against). */
  default?: T;
  tag?: number;
  /** Versions in which the field is a tagged field; defaults to all its versions. */
  tagged?: string;
}

type Tagged = { tag: number };
type Nullable = { nullable: string };

export function field<T>(type: Type<T>, versionSpec: string, options: FieldOptions<T> & Tagged & Nullable): Field<T | null, true>;
export function field<T>(type: Type<T>, versionSpec: string, options: FieldOptions<T> & Tagged): Field<T, true>;
export function field<T>(type: Type<T>, versionSpec: string, options: FieldOptions<T> & Nullable): Field<T | null>;
export function field<T>(type: Type<T>, versionSpec: string, options?: FieldOptions<T>): Field<T>;
export function field<T>(type: Type<T>, versionSpec: string, options: FieldOptions<T> = {}): Field<T, boolean> {
  return {
    build: (name) => ({
      name,
      type: type.def,
      versions: versions(versionSpec),
      nullable: options.nullable ? versions(options.nullable) : NO_VERSIONS,
      ...(options.tag !== undefined ? { tag: options.tag, tagged: versions(options.tagged ?? versionSpec) } : {}),
      default: options.default !== undefined ? options.default : defaultOf(type.def, options.nullable !== undefined),
    }),
  };
}

/** Kafka's implicit defaults: zero, false, empty; null for nullable fields. */
export function defaultOf(def: TypeDef, nullable: boolean): unknown {
  if (nullable) return null;
  switch (def.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
    case 'records':
      return Buffer.alloc(0);
    case 'uuid':
      return ZERO_UUID;
    case 'array':
      return [];
    case 'struct':
      return Object.fromEntries(def.fields.map((f) => [f.name, f.default]));
    default:
      return 0;
  }
}

export type Infer<S> = S extends Type<infer T> ? T : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = Field<any, boolean>;
type OptionalKeys<F> = { [K in keyof F]: F[K] extends Field<unknown, true> ? K : never }[keyof F];
type ValueOf<X> = X extends Field<infer T, boolean> ? T : never;
/** Decoded structs always hold every field; tagged fields may be omitted when encoding. */
type FieldsOf<F> = { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: ValueOf<F[K]> } & {
  -readonly [K in OptionalKeys<F>]?: ValueOf<F[K]>;
};

export interface Struct<T> extends Type<T> {
  readonly def: { readonly kind: 'struct'; readonly fields: readonly FieldDef[] };
}

export function struct<F extends Record<string, AnyField>>(fields: F): Struct<FieldsOf<F>> {
  return { def: { kind: 'struct', fields: Object.entries(fields).map(([name, f]) => f.build(name)) } };
}
