/** Request fixtures captured from real Kafka clients (hex files): decode them, and check they re-encode exactly. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { AnyKafkaApi } from '../../protocols/kafka/apis/types.js';
import { isFlexible } from '../../protocols/kafka/apis/types.js';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { readRequestHeader, skipHeaderTags, writeRequestHeader } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';

export interface LoadedFixture {
  header: ReturnType<typeof readRequestHeader>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  frame: Buffer;
  api: AnyKafkaApi;
}

export class FixtureSet {
  readonly dir: string;
  readonly names: string[];

  /** `folder` under test/fixtures; `apis` the table the requests are decoded with. */
  constructor(folder: string, private readonly apis: readonly AnyKafkaApi[]) {
    this.dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures', folder);
    this.names = readdirSync(this.dir).filter((f) => f.endsWith('.hex'));
  }

  /** Decodes a fixture, asserting the whole frame was consumed. */
  load(name: string): LoadedFixture {
    const frame = Buffer.from(readFileSync(path.join(this.dir, name), 'utf8').trim(), 'hex');
    const r = new Reader(frame);
    const header = readRequestHeader(r);
    const api = this.apis.find((a) => a.apiKey === header.apiKey)!;
    const flexible = isFlexible(api, header.apiVersion);
    if (flexible) skipHeaderTags(r);
    const body = decode(api.request, r, header.apiVersion, flexible);
    expect(r.remaining).toBe(0);
    return { header, body, frame, api };
  }

  /** The fixture's version is served, and encoding what was decoded gives back the same bytes. */
  expectRoundTrip(name: string): void {
    const { header, body, frame, api } = this.load(name);
    expect(header.apiVersion).toBeGreaterThanOrEqual(api.minVersion);
    expect(header.apiVersion).toBeLessThanOrEqual(api.maxVersion);
    const flexible = isFlexible(api, header.apiVersion);
    const w = new Writer();
    writeRequestHeader(w, header, flexible);
    encode(api.request, w, body, header.apiVersion, flexible);
    expect(w.toBuffer().toString('hex')).toBe(frame.toString('hex'));
  }
}
