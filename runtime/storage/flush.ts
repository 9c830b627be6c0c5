import { RobustMQError } from '../errors.js';
import type { FlushPolicy } from './engine.js';

/** Parses `always`, `os` or `interval:MS` (the `--flush` flag and the topic setting). */
export function parseFlushPolicy(text: string): FlushPolicy {
  if (text === 'always') return { mode: 'always' };
  if (text === 'os') return { mode: 'os' };
  const m = /^interval:(\d+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { mode: 'interval', intervalMs: Number(m[1]) };
  throw new RobustMQError('INVALID_ARGUMENT', `invalid flush policy "${text}": expected always, os or interval:MS`);
}

export function formatFlushPolicy(policy: FlushPolicy): string {
  return policy.mode === 'interval' ? `interval:${policy.intervalMs}` : policy.mode;
}
