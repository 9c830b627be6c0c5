import { describe, expect, it } from 'vitest';
import { findRunner, normalizeResult } from '../../bench/lib/external-suite.js';
import { parseCpuTicks } from '../../bench/lib/proc.js';
import { timestampName } from '../../bench/lib/results.js';
import {
  coreShare,
  cpuMsPerMB,
  formatBytes,
  formatCount,
  formatRatio,
  median,
  perSecond,
  ratio,
} from '../../bench/lib/stats.js';
import { renderTable } from '../../bench/lib/table.js';

describe('bench stats', () => {
  it('computes rates and ratios, refusing ratios to nothing', () => {
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(5, 0)).toBe(0);
    expect(ratio(150, 100)).toBe(1.5);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(3, undefined)).toBeNull();
    expect(ratio(Number.NaN, 3)).toBeNull();
  });

  it('takes the median of odd and even samples', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('turns /proc tick deltas into CPU per MB and core share', () => {
    // 50 ticks at 100 Hz = 500 ms of CPU for 2 MB → 250 ms/MB.
    expect(cpuMsPerMB(50, 2_000_000, 100)).toBe(250);
    expect(cpuMsPerMB(50, 0, 100)).toBeNull();
    // 150 ticks = 1.5 s of CPU over 1 s of wall time = 1.5 cores.
    expect(coreShare(150, 1000, 100)).toBe(1.5);
  });

  it('formats figures for the tables', () => {
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(null)).toBe('n/a');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatRatio(0.8512)).toBe('0.85x');
    expect(formatRatio(null)).toBe('n/a');
  });

  it('reads utime+stime from a /proc stat line whose command holds spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 0 0 20 0 11 0 999 0 0';
    expect(parseCpuTicks(stat)).toBe(1234 + 567);
  });

  it('names results files by UTC time, safe for file systems', () => {
    expect(timestampName(new Date('2024-05-01T10:20:30.456Z'))).toBe('2024-05-01T10-20-30Z');
  });

  it('renders aligned tables with notes', () => {
    const text = renderTable({ title: 'T', columns: ['name', 'n'], rows: [['a', '1'], ['long', '100']], notes: ['why'] });
    expect(text.split('\n')).toEqual(['T', 'name    n', '----  ---', 'a       1', 'long  100', '  why']);
  });
});

describe('external suites', () => {
  const options = { durationMs: 1, warmupMs: 1, quick: true, rounds: 1, log: () => undefined };

  it('runs a Suite export or a named run function', async () => {
    const suiteRunner = findRunner({ storageSuite: { name: 's', run: async () => 'from suite' } });
    expect(await suiteRunner?.(options)).toBe('from suite');
    const fnRunner = findRunner({ helper: 1, run: () => 'from run' });
    expect(await fnRunner?.(options)).toBe('from run');
    expect(findRunner({ other: () => 1 })).toBeNull();
  });

  it('keeps tables from a suite-shaped result and raw data otherwise', () => {
    const table = { title: 't', columns: ['a'], rows: [['1']] };
    const shaped = normalizeResult('storage', { tables: [table, { bogus: true }], data: { x: 1 }, errors: ['e'] });
    expect(shaped.tables).toEqual([table]);
    expect(shaped.data).toEqual({ x: 1 });
    expect(shaped.errors).toEqual(['e']);
    const raw = normalizeResult('storage', { appendsPerSec: 10 });
    expect(raw.tables).toEqual([]);
    expect(raw.data).toEqual({ result: { appendsPerSec: 10 } });
  });
});
