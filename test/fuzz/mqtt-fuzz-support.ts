/**
 * Shared pieces of the MQTT fuzz tests: the packets real clients sent (test/fixtures/mqtt, captured from mqtt.js,
 * mosquitto_pub and mosquitto_sub by capture.ts there) and mutations of them aimed at what MQTT decoders get wrong —
 * Remaining Lengths, two-byte string lengths and property lengths that lie. Seed and run counts are the Kafka fuzz
 * tests' (FUZZ_RUNS / FUZZ_SEED).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { mutationOf } from './kafka-fuzz-support.js';

export { HANG_MS, RUNS, SEED, settings, TIMEOUT_MS } from './kafka-fuzz-support.js';

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mqtt');

export interface MqttFixture {
  readonly name: string;
  /** Protocol level of the connection it was sent on: 3 (3.1), 4 (3.1.1), 5. */
  readonly version: 3 | 4 | 5;
  readonly cmd: string;
  readonly packet: Buffer;
}

export const MQTT_FIXTURES: readonly MqttFixture[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.hex'))
  .sort()
  .map((name) => {
    const [, v, cmd] = /^[a-z]+-v(\d)-([a-z]+)/.exec(name)!;
    const packet = Buffer.from(readFileSync(path.join(fixtureDir, name), 'utf8').trim(), 'hex');
    return { name, version: Number(v) as 3 | 4 | 5, cmd, packet };
  });

export const fixturesOf = (version: 3 | 4 | 5): Buffer[] => MQTT_FIXTURES.filter((f) => f.version === version).map((f) => f.packet);

/** The MQTT Variable Byte Integer encoding of `n` (up to 268,435,455 in four bytes). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0 && out.length < 4);
  return Buffer.from(out);
}

/** Length of the fixed header of a well-formed packet. */
function headerLength(packet: Buffer): number {
  let i = 1;
  while (i < packet.length && i < 5 && packet[i] & 0x80) i++;
  return i + 1;
}

const LYING_LENGTHS = [0, 1, 127, 128, 16_383, 16_384, 65_535, 1_048_576, 2_097_151, 268_435_455];

/** A valid packet whose Remaining Length, or one of its two-byte or property lengths, claims something else. */
export function lyingLengthOf(packets: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...packets), fc.constantFrom(...LYING_LENGTHS), fc.nat(), fc.constantFrom('remaining', 'u16', 'varint'))
    .map(([packet, claim, at, where]) => {
      const h = headerLength(packet);
      const body = packet.subarray(h);
      if (where === 'remaining') return Buffer.concat([packet.subarray(0, 1), varint(claim), body]);
      const out = Buffer.from(packet);
      const pos = h + (body.length === 0 ? 0 : at % body.length);
      if (where === 'u16' && pos + 2 <= out.length) out.writeUInt16BE(claim & 0xffff, pos);
      if (where === 'varint') return Buffer.concat([out.subarray(0, pos), varint(claim), out.subarray(pos + 1)]);
      return out;
    });
}

/** Anything a hostile or broken client might send as one packet on a connection of `version`. */
export function hostilePacket(version: 3 | 4 | 5): fc.Arbitrary<Buffer> {
  const packets = fixturesOf(version);
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
    // A plausible fixed header (known type and flags) in front of random bytes.
    fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 200 }))
      .map(([type, flags, body]) => Buffer.concat([Buffer.from([(type << 4) | flags]), varint(body.length), Buffer.from(body)])),
    mutationOf(packets),
    lyingLengthOf(packets),
  );
}

/** Cuts `all` into chunks at random points (a TCP stream's reads). */
export function chunked(all: Buffer): fc.Arbitrary<Buffer[]> {
  return fc.array(fc.integer({ min: 0, max: all.length }), { maxLength: 12 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), all.length];
    return points.slice(1).map((end, i) => all.subarray(points[i], end));
  });
}
