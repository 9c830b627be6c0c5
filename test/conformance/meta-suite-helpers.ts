/** Helpers for the MetaStore conformance suite (meta-suite.ts). */
import { expect } from 'vitest';
import { isRobustMQError, type ErrorCode } from '../../runtime/errors.js';
import type { Change, MetaStore, Namespace } from '../../runtime/meta/store.js';

/**
 * The TTL of entries that must still be live for the next few calls of a test: long enough that those calls land
 * before it even on a loaded machine. Tests never sleep a fixed time past it; they wait for the entry's own
 * `expiresAt` (pastExpiry).
 */
export const TTL_MS = 1500;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sleeps until the clock is past `expiresAt` (as a store reported it), so the entry must now count as expired.
 * The margin only covers timers firing a millisecond early; the stores compare against this same clock.
 */
export async function pastExpiry(expiresAt: number | undefined): Promise<void> {
  if (expiresAt === undefined) throw new Error('the entry has no expiresAt');
  const after = expiresAt + 5;
  while (Date.now() <= after) await sleep(after + 1 - Date.now());
}

/** Awaits `promise` and asserts it rejected with a RobustMQError of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    expect(isRobustMQError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    return err;
  }
  throw new Error(`expected a ${code} rejection, but the call succeeded`);
}

/** Polls `check` until true; watch delivery may be asynchronous or polled, so tests wait rather than sleep. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Subscribes to `ns` and records every change. */
export function recorder(store: MetaStore, ns: Namespace) {
  const changes: Change<unknown>[] = [];
  const stop = store.watch(ns, (c) => changes.push(c));
  const seen = (key: string) => changes.some((c) => c.key === key);
  return { changes, stop, seen, keys: () => changes.map((c) => `${c.type}:${c.key}`) };
}
