/** Helpers for the MetaStore conformance suite (meta-suite.ts). */
import { expect } from 'vitest';
import { isRobustMQError, type ErrorCode } from '../../runtime/errors.js';
import type { Change, MetaStore, Namespace } from '../../runtime/meta/store.js';

export const TTL_MS = 120;
export const AFTER_TTL_MS = 300;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
