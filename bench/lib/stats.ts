/** Pure arithmetic and formatting for benchmark figures: rates, ratios, CPU cost, human units. */

/** Events per second over a window of `ms` milliseconds; 0 for an empty window. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

/** a / b, or null when either side is missing or b is not positive (a ratio to nothing means nothing). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const MB = 1_000_000;
export const MiB = 1024 * 1024;

/**
 * CPU milliseconds spent per megabyte (10^6 bytes) moved, from a /proc utime+stime delta in clock ticks.
 * `ticksPerSecond` is the kernel's USER_HZ (getconf CLK_TCK, 100 on Linux).
 */
export function cpuMsPerMB(ticks: number, bytes: number, ticksPerSecond = 100): number | null {
  if (bytes <= 0) return null;
  return ((ticks * 1000) / ticksPerSecond) / (bytes / MB);
}

/** Share of one core used over a wall-clock window, from a tick delta (1.0 = one core busy). */
export function coreShare(ticks: number, wallMs: number, ticksPerSecond = 100): number | null {
  if (wallMs <= 0) return null;
  return ((ticks * 1000) / ticksPerSecond) / wallMs;
}

function scaled(n: number, units: ReadonlyArray<[number, string]>, digits: number): string {
  for (const [size, suffix] of units) {
    if (Math.abs(n) >= size) return `${(n / size).toFixed(digits)}${suffix}`;
  }
  return `${n.toFixed(n % 1 === 0 ? 0 : digits)}`;
}

/** 1234567 → "1.23M". */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return 'n/a';
  return scaled(n, [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']], 2);
}

/** Bytes with binary units: 1536 → "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return 'n/a';
  const units: Array<[number, string]> = [[1024 ** 3, ' GiB'], [MiB, ' MiB'], [1024, ' KiB']];
  return scaled(n, units, 1) + (Math.abs(n) < 1024 ? ' B' : '');
}

/** Megabytes (10^6) per second with one decimal: "123.4 MB/s". */
export function formatMBps(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond == null || !Number.isFinite(bytesPerSecond)) return 'n/a';
  return `${(bytesPerSecond / MB).toFixed(1)} MB/s`;
}

/** 0.8512 → "0.85x"; null → "n/a". */
export function formatRatio(r: number | null | undefined): string {
  if (r == null || !Number.isFinite(r)) return 'n/a';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

export function formatPercent(r: number | null | undefined): string {
  if (r == null || !Number.isFinite(r)) return 'n/a';
  return `${(r * 100).toFixed(1)}%`;
}

/** Rounds for JSON output so results files stay readable. */
export function round(n: number | null | undefined, digits = 3): number | null {
  if (n == null || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
